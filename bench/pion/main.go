// A minimal SFU on pion/webrtc v3 (the Go WebRTC stack LiveKit is built on) for the bench's
// side-by-side comparison with Lectern and Janus. It does what those two do in the comparison and
// nothing more: one publisher's plain-RTP video (VP8) and audio (opus) arrive on two UDP sockets on
// 127.0.0.1, exactly as the bench generator feeds Janus's RTP mountpoint and Lectern's
// PlainTransport; every packet is forwarded to each subscriber's own TrackLocalStaticRTP (one per
// kind per subscriber, as LiveKit gives each subscriber its own DownTrack). Subscribers are WebRTC
// peers (ICE + DTLS + SRTP), signalled over a small HTTP API on 127.0.0.1:
//
//	POST /subscribers             -> {"id": "...", "sdp": "<offer, candidates included>"}
//	POST /subscribers/{id}/answer    body: the subscriber's answer SDP -> 204
//
// When ready it prints one JSON line to stdout: {"http": port, "video": port, "audio": port}.
//
// -nack=true registers pion's default interceptors (webrtc.RegisterDefaultInterceptors: NACK
// generator and responder, sender/receiver reports, TWCC feedback); -nack=false registers none,
// only what it takes to forward. A PLI or FIR from any subscriber is passed on to the publisher (at
// most one per 500 ms), which then sends a key frame.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
)

// The payload types and header extensions Janus's streaming plugin offers the bench's viewers (and
// Lectern's hand-written offer copies): VP8 96 and opus 111, mid and abs-send-time.
const (
	vp8PayloadType  = 96
	opusPayloadType = 111
	absSendTimeURI  = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
	recvBufferBytes = 4 << 20
	pliInterval     = 500 * time.Millisecond
)

// subscriber is one WebRTC peer and its two tracks.
type subscriber struct {
	pc    *webrtc.PeerConnection
	video *webrtc.TrackLocalStaticRTP
	audio *webrtc.TrackLocalStaticRTP
}

// sfu holds the subscribers and forwards the publisher's packets to them.
type sfu struct {
	api *webrtc.API
	// The forwarding loops read the subscriber list on every packet: a copy-on-write slice behind an
	// atomic pointer costs them no lock; adding a subscriber takes mu and swaps in a new slice.
	mu      sync.Mutex
	list    atomic.Value // []*subscriber
	pending map[string]*subscriber
	nextID  int

	videoConn *net.UDPConn
	audioConn *net.UDPConn
	// Where the publisher's video comes from, so PLI/FIR can be sent back to it.
	publisher atomic.Value // netip.AddrPort
	lastPli   atomic.Int64
}

func newAPI(nack bool) (*webrtc.API, error) {
	media := &webrtc.MediaEngine{}
	videoFeedback := []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}}
	if !nack {
		// Without the NACK interceptors nack is not offered (nothing would answer it); PLI still is.
		videoFeedback = append(videoFeedback, webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"})
	}
	if err := media.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback},
		PayloadType:        vp8PayloadType,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if err := media.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        opusPayloadType,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		for _, uri := range []string{"urn:ietf:params:rtp-hdrext:sdes:mid", absSendTimeURI} {
			if err := media.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, kind); err != nil {
				return nil, err
			}
		}
	}
	registry := &interceptor.Registry{}
	if nack {
		if err := webrtc.RegisterDefaultInterceptors(media, registry); err != nil {
			return nil, err
		}
	}

	settings := webrtc.SettingEngine{}
	// Loopback only: pion skips loopback interfaces unless told, and gathers on every address
	// otherwise; the bench's namespace has 127.0.0.1 (lo) and 127.0.0.2 (bench127) and nothing else.
	settings.SetIncludeLoopbackCandidate(true)
	settings.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() && ip.To4() != nil })
	settings.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	settings.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// werift's single JS thread answers connectivity checks late on a loaded machine; the defaults
	// (disconnected after 5 s, failed after 25 s) would drop subscribers mid-window for it.
	settings.SetICETimeouts(30*time.Second, 60*time.Second, 2*time.Second)
	return webrtc.NewAPI(webrtc.WithMediaEngine(media), webrtc.WithInterceptorRegistry(registry), webrtc.WithSettingEngine(settings)), nil
}

func listenUDP() (*net.UDPConn, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	if err := conn.SetReadBuffer(recvBufferBytes); err != nil {
		return nil, err
	}
	return conn, nil
}

func (s *sfu) subscribers() []*subscriber {
	list, _ := s.list.Load().([]*subscriber)
	return list
}

// forward reads the publisher's packets of one kind and writes each to every subscriber's track.
func (s *sfu) forward(conn *net.UDPConn, video bool) {
	buf := make([]byte, 1500)
	var packet rtp.Packet
	for {
		// ReadFromUDPAddrPort, not ReadFromUDP: it allocates no address per packet.
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if video {
			if prev, _ := s.publisher.Load().(netip.AddrPort); prev != from {
				s.publisher.Store(from)
			}
		}
		if packet.Unmarshal(buf[:n]) != nil {
			continue
		}
		for _, sub := range s.subscribers() {
			track := sub.audio
			if video {
				track = sub.video
			}
			// A subscriber whose transport failed is skipped, not fatal: the sink counts what it lost.
			_ = track.WriteRTP(&packet)
		}
	}
}

// readRTCP drains a sender's RTCP (interceptors only see it when it is read) and passes PLI/FIR on.
func (s *sfu) readRTCP(sender *webrtc.RTPSender) {
	for {
		packets, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range packets {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.requestKeyFrame()
			}
		}
	}
}

func (s *sfu) requestKeyFrame() {
	now := time.Now().UnixNano()
	last := s.lastPli.Load()
	if now-last < int64(pliInterval) || !s.lastPli.CompareAndSwap(last, now) {
		return
	}
	to, _ := s.publisher.Load().(netip.AddrPort)
	if !to.IsValid() {
		return
	}
	// RTCP PSFB, FMT 1 (PLI): V=2, length 2, sender SSRC 0, media SSRC 0 (the generator does not check).
	pli := make([]byte, 12)
	pli[0], pli[1] = 0x81, 206
	binary.BigEndian.PutUint16(pli[2:], 2)
	_, _ = s.videoConn.WriteToUDPAddrPort(pli, to)
}

// addSubscriber creates a peer with a video and an audio track and returns its id and offer.
func (s *sfu) addSubscriber() (string, string, error) {
	pc, err := s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", "", err
	}
	sub := &subscriber{pc: pc}
	fail := func(err error) (string, string, error) {
		_ = pc.Close()
		return "", "", err
	}
	if sub.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "bench"); err != nil {
		return fail(err)
	}
	if sub.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "bench"); err != nil {
		return fail(err)
	}
	for _, track := range []*webrtc.TrackLocalStaticRTP{sub.video, sub.audio} {
		transceiver, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fail(err)
		}
		go s.readRTCP(transceiver.Sender())
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fail(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fail(err)
	}
	<-gathered

	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := fmt.Sprint(s.nextID)
	s.pending[id] = sub
	// Forwarding starts now: a track writes nothing until its sender is bound by the answer.
	list := append(append([]*subscriber(nil), s.subscribers()...), sub)
	s.list.Store(list)
	return id, pc.LocalDescription().SDP, nil
}

func (s *sfu) answer(id, sdp string) error {
	s.mu.Lock()
	sub := s.pending[id]
	delete(s.pending, id)
	s.mu.Unlock()
	if sub == nil {
		return fmt.Errorf("no subscriber %q waiting for an answer", id)
	}
	return sub.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
}

func (s *sfu) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "subscribers":
		id, offer, err := s.addSubscriber()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("content-type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": id, "sdp": offer})
	case len(parts) == 3 && parts[0] == "subscribers" && parts[2] == "answer":
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.answer(parts[1], string(body)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func main() {
	nack := flag.Bool("nack", true, "register pion's default interceptors (NACK responder and generator, RTCP reports, TWCC feedback)")
	flag.Parse()
	log.SetPrefix("pion-sfu: ")

	api, err := newAPI(*nack)
	if err != nil {
		log.Fatal(err)
	}
	s := &sfu{api: api, pending: map[string]*subscriber{}}
	s.list.Store([]*subscriber(nil))
	if s.videoConn, err = listenUDP(); err != nil {
		log.Fatal(err)
	}
	if s.audioConn, err = listenUDP(); err != nil {
		log.Fatal(err)
	}
	httpListener, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go s.forward(s.videoConn, true)
	go s.forward(s.audioConn, false)
	go func() { log.Fatal(http.Serve(httpListener, http.HandlerFunc(s.serveHTTP))) }()

	ready, _ := json.Marshal(map[string]int{
		"http":  httpListener.Addr().(*net.TCPAddr).Port,
		"video": s.videoConn.LocalAddr().(*net.UDPAddr).Port,
		"audio": s.audioConn.LocalAddr().(*net.UDPAddr).Port,
	})
	fmt.Println(string(ready))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	for _, sub := range s.subscribers() {
		_ = sub.pc.Close()
	}
}
