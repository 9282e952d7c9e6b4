#!/bin/sh
# POSIX semantics kept on wrapped sockets (issue 4, items 1 and 5), with
# evprog_signals, a plain C client under a connect rule, against Python TLS
# servers: EINTR from a blocking read interrupted by a handler without
# SA_RESTART; a restarted read with SA_RESTART; EINTR from poll, select and
# epoll_wait even with SA_RESTART; SO_RCVTIMEO's EAGAIN; SO_SNDTIMEO's short
# count or EAGAIN; a blocked reader woken by another thread's
# shutdown(SHUT_RDWR), and one that goes on when another thread closes the
# descriptor (as on Linux); O_NONBLOCK and MSG_DONTWAIT as the program sets
# them; EPIPE with SIGPIPE, without it under MSG_NOSIGNAL or SIG_IGN; and
# no wrapped descriptor open in an exec'd image.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/evloop_lib.sh"
ev_need_preload
ev_need_progs evprog_signals

P=$(free_port)
PC=$(free_port)
# Answers 1 s after the handshake (the SA_RESTART case needs an answer
# after the 300 ms alarm; the others never wait that long).
# No session tickets: a TLS 1.3 ticket arriving after the handshake is a
# readable kernel socket without application data, which is another matter
# (test_evloop_tickets.sh); here the peer is silent until it answers.
start_bg 120 "$EVPY" "$EV" send-server --port "$P" --delay 1 --msg answer --no-tickets > "$T/send.log" 2>&1
start_bg 120 "$EVPY" "$EV" close-server --port "$PC" > "$T/close.log" 2>&1
# A peer that reads nothing for 60 s (SO_SNDTIMEO).
PS=$(free_port)
start_bg 120 "$EVPY" "$EV" send-server --port "$PS" --delay 60 --msg late > "$T/stall.log" 2>&1
wait_port "$P"
wait_port "$PC"
wait_port "$PS"

bad=""
for c in eintr restart rcvtimeo sndtimeo shutdown closewhileread flags poll-eintr select-eintr epoll-eintr exec sigpipe nosignal ignored; do
	case $c in sigpipe|nosignal|ignored) port=$PC ;; sndtimeo) port=$PS ;; *) port=$P ;; esac
	timeout 20 env LD_PRELOAD="$PRELOAD" TLSSHIM_CONFIG_STRING="$(ev_connect_cfg "$port")" \
		"$PROGS/evprog_signals" 127.0.0.1 "$port" "$c" > "$T/$c.out" 2>&1
	rc=$?
	cat "$T/$c.out"
	if [ $rc -ne 0 ] || ! grep -q "^$c ok" "$T/$c.out"; then
		[ $rc -eq 124 ] && echo "$c: timed out"
		bad="$bad $c"
	fi
done
[ -z "$bad" ] || fail "POSIX semantics differ on a wrapped socket for:$bad"
exit 0
