#!/bin/sh
# Checks (and on Debian, as root, installs) what tlsshim needs.
#   deps.sh build   compiler, pkg-config, OpenSSL 3, libconfig, check
#   deps.sh test    + the real programs the tests drive
#   deps.sh bench   + stunnel, gnuplot, valgrind, strace
#   deps.sh fuzz    + clang (libFuzzer)
#   deps.sh deb     + dpkg-deb, dpkg-shlibdeps (make deb)
#   deps.sh valgrind + valgrind (make valgrind)
# Prints nothing when everything is there. Exit 1 when something is missing
# and could not be installed.
group=${1:-build}
missing=""

need_pkg() { # pkg-config module, Debian package
	pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}
need_cmd() { # command, Debian package
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}

need_cmd cc gcc
# The static launcher links libc.a; without it build/tlsshim is dynamic
# (slower to start) and test_launcher_static says so.
if command -v cc >/dev/null 2>&1; then
	case $(cc -print-file-name=libc.a 2>/dev/null) in
	/*) ;;
	*) missing="$missing libc6-dev" ;;
	esac
fi
need_cmd make make
need_cmd pkg-config pkg-config
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --atleast-version=3.0 openssl 2>/dev/null || missing="$missing libssl-dev"
	need_pkg libconfig libconfig-dev
	need_pkg check check
else
	missing="$missing libssl-dev libconfig-dev check"
fi

if [ "$group" = test ] || [ "$group" = bench ]; then
	need_cmd openssl openssl
	need_cmd python3 python3
	need_cmd curl curl
	need_cmd socat socat
	need_cmd ncat ncat
	need_cmd nginx nginx-light
	need_cmd redis-server redis-server
	need_cmd redis-cli redis-tools
	need_cmd redis-benchmark redis-tools
	need_cmd timeout coreutils
	need_cmd strace strace        # system calls counted: test_launcher_light, test_preload_connect_cost
	# Test-local host names (NSS_WRAPPER_HOSTS) for the name tests.
	ls /usr/lib/*-linux-gnu/libnss_wrapper.so >/dev/null 2>&1 || missing="$missing libnss-wrapper"
	need_cmd promtool prometheus
	need_cmd setsid util-linux
	need_cmd unshare util-linux   # test_preload_syslog: a private /dev/log
	need_cmd lintian lintian      # test_install_deb
	need_cmd dpkg-deb dpkg
	need_cmd dpkg-shlibdeps dpkg-dev
	need_cmd groff groff
	need_cmd lighttpd lighttpd   # test_fds_lighttpd: exports config_init
	need_cmd testssl testssl.sh  # test_trust_defaults_testssl: someone else's scanner
	need_cmd node nodejs
	need_cmd psql postgresql-client
	need_cmd pgbench postgresql-client
	# initdb and postgres live in /usr/lib/postgresql/VERSION/bin.
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 \
		|| missing="$missing postgresql"
	# The tests rely on OpenBSD netcat's flags (-N, -q).
	if ! nc -h 2>&1 | grep -q OpenBSD; then missing="$missing netcat-openbsd"; fi
fi
if [ "$group" = deb ]; then
	need_cmd dpkg-deb dpkg
	need_cmd dpkg-shlibdeps dpkg-dev
	need_cmd strip binutils
fi
if [ "$group" = fuzz ]; then
	need_cmd clang clang
fi
if [ "$group" = valgrind ]; then
	need_cmd valgrind valgrind
fi
if [ "$group" = bench ]; then
	need_cmd stunnel stunnel4
	need_cmd gnuplot gnuplot-nox
	need_cmd valgrind valgrind
	need_cmd taskset util-linux
	need_cmd strace strace
fi

[ -z "$missing" ] && exit 0
# One package once.
missing=$(echo $missing | tr ' ' '\n' | sort -u | tr '\n' ' ')

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "tlsshim: installing missing dependencies:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	# Do not let package scripts start the services they install.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
		cleanup_policy=1
	fi
	{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >&2 </dev/null
	rc=$?
	[ -n "${cleanup_policy:-}" ] && rm -f /usr/sbin/policy-rc.d
	[ $rc -eq 0 ] || { echo "tlsshim: apt-get failed (exit $rc)" >&2; exit 1; }
	exit 0
fi

echo "tlsshim: missing dependencies. Install them with:" >&2
echo "  sudo apt-get install -y$missing" >&2
exit 1
