// libsrtp 3 API compatibility header over Debian's libsrtp2.
//
// Why: mediasoup >= 3.16 is written against libsrtp 3 (a versatica fork that Debian
// does not ship). mediasoup includes <srtp.h>; this header (on the include path via
// the libsrtp3 shim subproject) provides the handful of libsrtp 3 calls mediasoup
// makes as C++ overloads on top of the libsrtp 2 functions. Everything else
// (policies, crypto-policy setters, init/shutdown, events) is identical in v2.
//
// libsrtp 3 semantics reproduced here: protect/unprotect take a separate output
// buffer whose capacity is passed in *outLen and receive the resulting length there.
// libsrtp 2 works in place with an int length, so the input is copied to the output
// buffer first (skipped when they are the same buffer, as mediasoup does for
// unprotect). MKI is never used by mediasoup (mki_index is always 0), so it is ignored.
#ifndef LECTERN_SRTP3_COMPAT_H
#define LECTERN_SRTP3_COMPAT_H

#include <srtp2/srtp.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

// Error codes that libsrtp 3 added after v2's last one (srtp_err_status_pkt_idx_adv = 27).
constexpr srtp_err_status_t srtp_err_status_buffer_small = static_cast<srtp_err_status_t>(28);
constexpr srtp_err_status_t srtp_err_status_cryptex_err  = static_cast<srtp_err_status_t>(29);

namespace lectern_srtp3_compat
{
	// Room libsrtp 2 needs after the packet: SRTP trailer (+4 for the SRTCP index).
	constexpr size_t RtpTrailer{ SRTP_MAX_TRAILER_LEN };
	constexpr size_t RtcpTrailer{ SRTP_MAX_TRAILER_LEN + 4 };

	using InPlaceFn = srtp_err_status_t (*)(srtp_t, void*, int*);

	inline srtp_err_status_t Call(
	  InPlaceFn fn, srtp_t ctx, const uint8_t* in, size_t inLen, uint8_t* out, size_t* outLen, size_t room)
	{
		if (inLen > static_cast<size_t>(INT_MAX) - room)
			return srtp_err_status_bad_param;
		if (*outLen < inLen + room)
			return srtp_err_status_buffer_small;
		if (out != in)
			std::memmove(out, in, inLen);

		int len = static_cast<int>(inLen);
		const srtp_err_status_t err = fn(ctx, out, &len);

		if (err == srtp_err_status_ok)
			*outLen = static_cast<size_t>(len);

		return err;
	}
} // namespace lectern_srtp3_compat

inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtpLen, uint8_t* srtp, size_t* srtpLen, size_t /*mkiIndex*/)
{
	return lectern_srtp3_compat::Call(
	  ::srtp_protect, ctx, rtp, rtpLen, srtp, srtpLen, lectern_srtp3_compat::RtpTrailer);
}

inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcpLen, uint8_t* srtcp, size_t* srtcpLen, size_t /*mkiIndex*/)
{
	return lectern_srtp3_compat::Call(
	  ::srtp_protect_rtcp, ctx, rtcp, rtcpLen, srtcp, srtcpLen, lectern_srtp3_compat::RtcpTrailer);
}

inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtpLen, uint8_t* rtp, size_t* rtpLen)
{
	return lectern_srtp3_compat::Call(::srtp_unprotect, ctx, srtp, srtpLen, rtp, rtpLen, 0);
}

inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcpLen, uint8_t* rtcp, size_t* rtcpLen)
{
	return lectern_srtp3_compat::Call(::srtp_unprotect_rtcp, ctx, srtcp, srtcpLen, rtcp, rtcpLen, 0);
}

// Renamed in libsrtp 3.
inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}

#endif
