#!/usr/bin/env bash
# Make sure node_modules/mediasoup/worker/out/Release/mediasoup-worker exists and works.
# Idempotent; safe to run after every `npm ci` (which wipes node_modules).
#
#   1. cached binary (outside node_modules)            -> copy into place   (~1 s)
#   2. upstream prebuilt from GitHub releases          -> verify, cache     (needs internet)
#   3. build from the package's own sources against Debian libraries     (~7-9 min, 2 cores);
#      libsrtp is Debian's libsrtp2 source package rebuilt with OpenSSL crypto (see build_libsrtp)
#      liburing (io_uring sends) from the first Debian suite with a new enough one (see build_liburing)
#   4. verify: worker + router + WebRtcTransport through the mediasoup Node API
#
# Env:
#   LECTERN_WORKER_FROM_SOURCE=1  skip the prebuilt (cached or downloaded): auditable
#                                 build from distro-maintained libraries only
#   LECTERN_CACHE_DIR             cache root (default ${XDG_CACHE_HOME:-~/.cache}/lectern)
#   LECTERN_BUILD_JOBS            parallel compile jobs (default 2)
#   LECTERN_PREBUILT_TIMEOUT      max seconds for the prebuilt download (default 60)
#   MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL   same meaning as in mediasoup's npm-scripts.mjs
#
# Background and the facts behind step 3: /work/shared/notes/mediasoup-offline.md
# Shim subprojects used by step 3: scripts/mediasoup-shim/ (see its README.md); optional
# performance patches: scripts/mediasoup-patches/ (each says why in its header).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
SHIM_DIR=$SCRIPT_DIR/mediasoup-shim
PATCH_DIR=$SCRIPT_DIR/mediasoup-patches
PKG_DIR=$ROOT/node_modules/mediasoup
TARGET=$PKG_DIR/worker/out/Release/mediasoup-worker
CACHE_ROOT=${LECTERN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/lectern}/mediasoup-worker
JOBS=${LECTERN_BUILD_JOBS:-2}
FROM_SOURCE=${LECTERN_WORKER_FROM_SOURCE:-0}

# Debian libraries the source-built worker links to (their versions are part of the cache key).
DEB_LIBS=(libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev libflatbuffers-dev)
# dpkg-dev: apt-get source needs dpkg-source to unpack the libsrtp2 source package (build_libsrtp).
BUILD_PKGS=(meson ninja-build pkg-config g++ dpkg-dev patch "${DEB_LIBS[@]}" flatbuffers-compiler)

TMP_DIRS=()
cleanup() { if ((${#TMP_DIRS[@]})); then rm -rf "${TMP_DIRS[@]}"; fi; }
trap cleanup EXIT

log() { printf 'mediasoup-worker: %s\n' "$*"; }
die() { printf 'mediasoup-worker: ERROR: %s\n' "$*" >&2; exit 1; }
# Sets NEW_TMP (not via $(...): the subshell would lose the TMP_DIRS bookkeeping).
new_tmp() { NEW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lectern-mediasoup.XXXXXX") && TMP_DIRS+=("$NEW_TMP"); }

# ---------------------------------------------------------------------------------------
# Source-build recipe. The text of build_from_source, its helpers and apply_patches (as
# printed by `declare -f`, i.e. without comments) is hashed into the cache key, so changing
# the recipe invalidates cached source builds.
# ---------------------------------------------------------------------------------------

# The Debian mirror this machine already uses (its deb-src side holds the same sources).
debian_mirror() {
	local uri
	uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n 1 | tr -d ' ')
	echo "${uri:-http://deb.debian.org/debian}"
}

# Fetch a Debian source package with apt (signature-checked against the archive keyring) from
# the given suite, through a private apt state under <dir> (the system's lists are untouched).
# Prints the unpacked source tree.
fetch_debian_source() { # <dir> <suite> <package[=version]>
	local dir=$1 suite=$2 pkg=$3 tree
	mkdir -p "$dir/apt/lists/partial" "$dir/src"
	echo "deb-src $(debian_mirror) $suite main" >"$dir/apt/sources.list"
	local apt=(-o "Dir::Etc::sourcelist=$dir/apt/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$dir/apt/lists" -o APT::Sandbox::User=root)
	apt-get "${apt[@]}" update -qq >&2 || return 1
	(cd "$dir/src" && apt-get "${apt[@]}" source -qq "$pkg" >&2) || return 1
	tree=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name "${pkg%%=*}*" | head -n 1)
	[[ -n $tree ]] && echo "$tree"
}

# Why: Debian builds libsrtp2 with NSS crypto (--enable-nss), which creates an NSS context for
# every packet: 7-10 us to protect one 1,100-byte packet here, against ~2 us for the same source
# built with OpenSSL (mediasoup's own build uses OpenSSL too). An SFU protects every forwarded
# copy, so this alone was ~2/3 of Lectern's CPU per packet. Same upstream version, same Debian
# patches, fetched by apt (signature-checked) from the Debian archive; only the crypto differs.
# Prints the install prefix; fails (the caller falls back to Debian's binary) if anything is off.
build_libsrtp() {
	local dir=$1 version codename tree
	version=$(dpkg-query -W -f '${source:Version}' libsrtp2-dev) || return 1
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[[ -n $codename ]] || return 1
	tree=$(fetch_debian_source "$dir" "$codename" "libsrtp2=$version") || return 1
	(cd "$tree" && ./configure --prefix="$dir/install" --enable-openssl --disable-debug-logging \
		CFLAGS="-O2 -fPIC -D_REENTRANT" >&2 && make -j "$JOBS" libsrtp2.a >&2 && make install >&2) || return 1
	[[ -f $dir/install/lib/libsrtp2.a && -f $dir/install/include/srtp2/srtp.h ]] || return 1
	echo "$dir/install"
}

# Why: on Linux >= 6 upstream's prebuilt worker sends through io_uring. A router queues the copies
# of one incoming packet for all its consumers and submits them with one system call, where
# without it every copy is its own sendmsg (50 subscribers = 50 system calls per packet, each
# paying this VM's syscall mitigations). mediasoup needs liburing >= 2.5 (it uses
# io_uring_prep_send_set_addr); bookworm has 2.3, so the source comes from the first suite that
# has a new enough one. It is a small C library with no dependencies, built static.
# Prints the prefix (include/, lib/liburing.a); fails (the caller builds without io_uring) if
# no suite has it or it does not build.
LIBURING_SUITES=("$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" trixie)
build_liburing() {
	local dir=$1 suite tree
	for suite in "${LIBURING_SUITES[@]}"; do
		[[ -n $suite ]] || continue
		rm -rf "$dir"
		tree=$(fetch_debian_source "$dir" "$suite" liburing) || continue
		[[ $tree =~ liburing-([0-9]+)\.([0-9]+) ]] || continue
		((BASH_REMATCH[1] > 2 || BASH_REMATCH[2] >= 5)) || continue
		(cd "$tree" && ./configure >&2 && make -C src -j "$JOBS" liburing.a >&2) || continue
		mkdir -p "$dir/install/lib" && cp "$tree/src/liburing.a" "$dir/install/lib/" &&
			cp -a "$tree/src/include" "$dir/install/" || continue
		echo "$dir/install"
		return 0
	done
	return 1
}

apply_patches() {
	local src=$1 f

	# bookworm ships meson 1.0.1; mediasoup asks for >= 1.1.0 but builds fine with 1.0.
	f=$src/meson.build
	if grep -q "meson_version: '>= 1.1.0'" "$f"; then
		sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$f"
	else
		log "note: meson_version '>= 1.1.0' not found in worker/meson.build; left unchanged"
	fi

	# REQUIRED: BIO callback must test the BIO_CB_RETURN bit, not equality. Otherwise it
	# overrides OpenSSL's control-call results with 1, Debian's kTLS-enabled OpenSSL then
	# believes kTLS is active and SSL_read segfaults on the first DTLS message.
	f=$src/src/RTC/DtlsTransport.cpp
	cp "$f" "$f.orig"
	sed -i 's/(operationType == BIO_CB_RETURN)/(operationType \& BIO_CB_RETURN)/' "$f"
	if cmp -s "$f" "$f.orig" || ! grep -q '(operationType & BIO_CB_RETURN)' "$f"; then
		die "DtlsTransport.cpp BIO_CB_RETURN patch did not apply (mediasoup changed the BIO callback?).
  Without it the worker crashes on the first DTLS message with Debian's OpenSSL.
  Check node_modules/mediasoup/worker/src/RTC/DtlsTransport.cpp and update apply_patches in $0."
	fi
	rm -f "$f.orig"

	# Optional (performance): io_uring sends copy instead of zero-copy. A forwarded RTP packet is
	# ~1,200 bytes; MSG_ZEROCOPY pins pages and posts a second completion per send, which costs more
	# than the copy below ~10 KB (kernel docs, msg_zerocopy.rst). Measured here at 1 -> 50 SRTP:
	# 13.9-14.2 us per forwarded packet with zero-copy, 11.7-12.2 without, 14.6-15.7 with no io_uring.
	# Not registering the buffers also keeps 6 MB per worker out of locked memory.
	f=$src/include/DepLibUring.hpp
	if grep -q 'bool zeroCopyEnabled{ true };' "$f" &&
		grep -q 'err = io_uring_register_buffers(' "$src/src/DepLibUring.cpp"; then
		sed -i 's/bool zeroCopyEnabled{ true };/bool zeroCopyEnabled{ false };/' "$f"
		sed -i 's/^\terr = io_uring_register_buffers(\(.*\));$/\terr = this->zeroCopyEnabled ? io_uring_register_buffers(\1) : 0;/' \
			"$src/src/DepLibUring.cpp"
	else
		log "note: DepLibUring zero-copy switch not found; io_uring sends stay zero-copy"
	fi

	# Optional (performance): the patches in scripts/mediasoup-patches/, each explained in its
	# own header. One that no longer applies is skipped and said, never half-applied.
	for f in "$PATCH_DIR"/*.patch; do
		[[ -f $f ]] || continue
		if patch -p1 --forward --dry-run --silent -d "$src" <"$f" >/dev/null; then
			patch -p1 --forward --silent -d "$src" <"$f"
		else
			log "note: ${f##*/} does not apply to this mediasoup; skipped"
		fi
	done
}

build_from_source() {
	local build=$1 src=$1/worker

	# Work on a copy: node_modules stays pristine.
	cp -a "$PKG_DIR/worker" "$src"
	rm -rf "$src/out"

	# Any .wrap left makes meson download; replace each subproject by a local Debian shim.
	rm -f "$src"/subprojects/*.wrap
	cp -a "$SHIM_DIR"/*/ "$src/subprojects/"

	# libsrtp with OpenSSL crypto if Debian's source can be fetched; the shim picks it up from
	# subprojects/libsrtp3/openssl-build, else it links Debian's libsrtp2 (NSS) as before.
	local srtp
	if srtp=$(build_libsrtp "$build/libsrtp"); then
		cp -a "$srtp" "$src/subprojects/libsrtp3/openssl-build"
		log "libsrtp: Debian's libsrtp2 source rebuilt with OpenSSL crypto"
	else
		log "warning: could not fetch or build Debian's libsrtp2 source; linking Debian's libsrtp2 (NSS crypto, slower SRTP)"
	fi

	# io_uring sends if a new enough liburing source can be fetched (build_liburing says why);
	# the shim picks it up from subprojects/liburing/uring-build.
	local uring no_uring=true
	if uring=$(build_liburing "$build/liburing"); then
		cp -a "$uring" "$src/subprojects/liburing/uring-build"
		no_uring=false
		log "liburing: built from Debian's source; the worker sends through io_uring where the kernel allows"
	else
		log "warning: no liburing >= 2.5 source from Debian; building without io_uring (one sendmsg per copy)"
	fi

	apply_patches "$src"

	# --wrap-mode=nodownload: belt and braces, meson must never fetch anything here.
	(cd "$src" && meson setup --buildtype release -Db_ndebug=true -Dms_disable_liburing=$no_uring \
		--wrap-mode=nodownload out/build)

	# Generate the FlatBuffers headers first, else libwebrtc races them ("FBS/message.h: No such file").
	meson compile -C "$src/out/build" -j "$JOBS" flatbuffers-generator
	meson compile -C "$src/out/build" -j "$JOBS" mediasoup-worker
	BUILT_BIN=$src/out/build/mediasoup-worker
}

# ---------------------------------------------------------------------------------------

# Sets MS_VERSION, PREBUILT_TAR and PREBUILT_BASE exactly as npm-scripts.mjs computes them.
read_pkg_info() {
	local out
	out=$(node -e '
		const os = require("os");
		const pkg = require(process.argv[1]);
		let tar = `mediasoup-worker-${pkg.version}-${os.platform()}-${os.arch()}`;
		if (os.platform() === "linux") tar += `-kernel${Number(os.release().split(".")[0])}`;
		const base = process.env.MEDIASOUP_WORKER_PREBUILT_DOWNLOAD_BASE_URL ||
			`${pkg.repository.url.replace(/^git\+/, "").replace(/\.git$/, "")}/releases/download`;
		console.log([pkg.version, `${tar}.tgz`, base].join("\n"));
	' "$PKG_DIR/package.json") || die "cannot read $PKG_DIR/package.json (run npm ci first?)"
	{ read -r MS_VERSION; read -r PREBUILT_TAR; read -r PREBUILT_BASE; } <<<"$out"
}

deb_status() { dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null || true; }

deb_versions() {
	local p v
	for p in "${DEB_LIBS[@]}"; do
		v=missing
		[[ $(deb_status "$p") == installed ]] && v=$(dpkg-query -W -f '${Version}' "$p")
		printf '%s=%s\n' "$p" "$v"
	done
}

tree_hash() { # <dir>
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64
}

# Sets SOURCE_KEY_TEXT (human-readable inputs) and SOURCE_KEY.
compute_source_key() {
	local arch
	arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
	SOURCE_KEY_TEXT="mediasoup=$MS_VERSION
arch=$arch
$(deb_versions)
shims=$(tree_hash "$SHIM_DIR")
patches=$(tree_hash "$PATCH_DIR")
recipe=$(declare -f build_from_source fetch_debian_source build_libsrtp build_liburing apply_patches | sha256sum | cut -c1-64)"
	SOURCE_KEY="$MS_VERSION-$arch-debian-$(sha256sum <<<"$SOURCE_KEY_TEXT" | cut -c1-16)"
}

prebuilt_key() { local t=${PREBUILT_TAR%.tgz}; echo "$MS_VERSION-prebuilt-${t#mediasoup-worker-"$MS_VERSION"-}"; }

# Upstream's sanity check: run with an empty env, exit code 41 means "runs, missing MEDIASOUP_VERSION".
binary_runs() {
	local rc=0
	env -i "$1" >/dev/null 2>&1 || rc=$?
	[[ $rc -eq 41 ]]
}

# Copy into place via a temp file + rename (never write into a binary a running worker uses).
# (&&-chained: these also run where `set -e` is suspended, e.g. inside `if`/`||`.)
install_bin() {
	mkdir -p "$(dirname "$TARGET")" &&
		cp "$1" "$TARGET.tmp.$$" &&
		chmod 755 "$TARGET.tmp.$$" &&
		mv -f "$TARGET.tmp.$$" "$TARGET"
}

store_cache() { # <binary> <key> <key description>
	local dir=$CACHE_ROOT/$2
	mkdir -p "$dir" &&
		cp "$1" "$dir/mediasoup-worker.tmp.$$" &&
		chmod 755 "$dir/mediasoup-worker.tmp.$$" &&
		printf '%s\n' "$3" >"$dir/key.txt" &&
		mv -f "$dir/mediasoup-worker.tmp.$$" "$dir/mediasoup-worker" &&
		log "cached: $dir/mediasoup-worker"
}

# The OpenSSL libsrtp2 the worker was linked with, kept for the bench's SRTP sink (bench/lib/
# NativeUdpSink.ts), which shares the worker's cores and should not pay NSS's per-packet cost.
keep_libsrtp() {
	local dir=${CACHE_ROOT%/*}/libsrtp2-openssl
	[[ -f $1/lib/libsrtp2.a ]] || return 0
	rm -rf "$dir.tmp.$$" && cp -a "$1" "$dir.tmp.$$" && rm -rf "$dir" && mv "$dir.tmp.$$" "$dir" || true
}

# Step 4. Prints one line; non-zero exit if the worker does not work.
verify() {
	(cd "$ROOT" && env -u MEDIASOUP_WORKER_BIN timeout 60 node --input-type=module -e '
		import * as ms from "mediasoup";
		const w = await ms.createWorker();
		const r = await w.createRouter({ mediaCodecs: [
			{ kind: "audio", mimeType: "audio/opus", clockRate: 48000, channels: 2 },
			{ kind: "video", mimeType: "video/VP8", clockRate: 90000 } ] });
		const t = await r.createWebRtcTransport({ listenInfos: [ { protocol: "udp", ip: "127.0.0.1" } ] });
		const c = t.iceCandidates[0];
		if (!c) throw new Error("WebRtcTransport has no ICE candidate");
		w.close();
		console.log(`verified: worker+router+WebRtcTransport ok (mediasoup ${ms.version}, ICE ${c.address}:${c.port})`);
	' 2>&1)
}

try_cached() { # <key>
	local bin=$CACHE_ROOT/$1/mediasoup-worker out
	[[ -x $bin ]] || return 1
	install_bin "$bin" || return 1
	if out=$(verify); then
		log "installed cached worker ($CACHE_ROOT/$1); $out"
		exit 0
	fi
	log "cached worker $bin failed verification, discarding it:"
	printf '%s\n' "$out" | tail -n 5 >&2
	rm -rf "${CACHE_ROOT:?}/$1"
	return 1
}

# Step 2: the download mediasoup's postinstall does (npm-scripts.mjs downloadPrebuiltWorker).
# On success the binary is installed and PREBUILT_BIN / PREBUILT_URL are set.
try_prebuilt() {
	local url tmp err
	url=$PREBUILT_BASE/$MS_VERSION/$PREBUILT_TAR
	if ! command -v curl >/dev/null; then
		log "curl not found; skipping prebuilt download"
		return 1
	fi
	new_tmp || return 1
	tmp=$NEW_TMP
	log "trying prebuilt: $url"
	if ! err=$(curl -fsSL --connect-timeout 5 --max-time "${LECTERN_PREBUILT_TIMEOUT:-60}" \
		-o "$tmp/worker.tgz" "$url" 2>&1); then
		log "no prebuilt (${err:-download failed}); building from source"
		return 1
	fi
	if ! tar -xzf "$tmp/worker.tgz" -C "$tmp" || [[ ! -f $tmp/mediasoup-worker ]]; then
		log "prebuilt tarball unusable; building from source"
		return 1
	fi
	chmod 755 "$tmp/mediasoup-worker"
	if ! binary_runs "$tmp/mediasoup-worker"; then
		log "prebuilt worker does not run on this host; building from source"
		return 1
	fi
	install_bin "$tmp/mediasoup-worker" || die "cannot install worker into $TARGET"
	PREBUILT_BIN=$tmp/mediasoup-worker
	PREBUILT_URL=$url
}

ensure_build_deps() {
	local p missing=() sudo=()
	for p in "${BUILD_PKGS[@]}"; do
		[[ $(deb_status "$p") == installed ]] || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	if [[ $EUID -ne 0 ]]; then
		command -v sudo >/dev/null || die "need root to install: apt-get install ${missing[*]}"
		sudo=(sudo)
	fi
	log "installing Debian packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# apt-get update only when there are no package lists, or when the install fails with stale ones.
	if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then
		"${sudo[@]}" apt-get update
	fi
	if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; then
		"${sudo[@]}" apt-get update
		"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
	fi
}

main() {
	[[ -f $PKG_DIR/package.json ]] || die "$PKG_DIR not found (run npm ci first)"
	command -v node >/dev/null || die "node not found"
	[[ -z ${MEDIASOUP_WORKER_BIN:-} ]] ||
		log "warning: MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is set; mediasoup will use that binary at run time"

	read_pkg_info
	mkdir -p "$CACHE_ROOT"

	# One run at a time per cache (a concurrent run waits, then finds the cache warm).
	if command -v flock >/dev/null; then
		exec 9>"$CACHE_ROOT/.lock"
		if ! flock -n 9; then
			log "another run holds $CACHE_ROOT/.lock; waiting"
			flock 9
		fi
	fi

	# 1. Cache.
	compute_source_key
	[[ $FROM_SOURCE == 1 ]] || try_cached "$(prebuilt_key)" || true
	try_cached "$SOURCE_KEY" || true

	# 2. Upstream prebuilt.
	if [[ $FROM_SOURCE == 1 ]]; then
		log "LECTERN_WORKER_FROM_SOURCE=1: skipping prebuilt download"
	elif try_prebuilt; then
		local out
		out=$(verify) || die "prebuilt worker failed verification:
$out"
		store_cache "$PREBUILT_BIN" "$(prebuilt_key)" "prebuilt from $PREBUILT_URL"
		log "$out"
		return 0
	fi

	# 3. Build from source against Debian libraries.
	local start=$SECONDS build out
	ensure_build_deps
	compute_source_key # library versions may have changed (or appeared) just now
	new_tmp
	build=$NEW_TMP
	log "building from source in $build (mediasoup $MS_VERSION, -j$JOBS, key $SOURCE_KEY)"
	build_from_source "$build"
	binary_runs "$BUILT_BIN" || die "built worker does not run: $BUILT_BIN"
	keep_libsrtp "$build/libsrtp/install"
	install_bin "$BUILT_BIN"
	log "built in $(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s"

	# 4. Verify before caching, so a broken build is never reused.
	out=$(verify) || die "source-built worker failed verification:
$out"
	store_cache "$BUILT_BIN" "$SOURCE_KEY" "$SOURCE_KEY_TEXT"
	log "$out"
}

main "$@"
