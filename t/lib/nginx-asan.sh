#!/bin/sh
# nginx with the sanitizer runtimes loaded first, for a module built with
# -fsanitize=address,undefined (make test-asan). Leak checking is off: nginx
# leaves its pools to the exit, which LeakSanitizer would report.
runtime() { gcc -print-file-name="$1"; }
LD_PRELOAD="$(runtime libasan.so):$(runtime libubsan.so)${LD_PRELOAD:+:$LD_PRELOAD}"
ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:halt_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LD_PRELOAD ASAN_OPTIONS UBSAN_OPTIONS
exec /usr/sbin/nginx "$@"
