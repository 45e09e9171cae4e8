# nginx-auth-oidc: the commands a newcomer needs.
#
#   make deps    install build, test and demo dependencies (Debian 12, root);
#                make test and make demo run it themselves
#   make         build build/ngx_http_auth_oidc_module.so
#   make test    unit tests (CTest) and integration tests (node --test, t/)
#   make demo    nginx + a development OpenID provider + a demo app
#   make bench   benchmark (bench/README.md); BENCH_ARGS=--quick for a smoke run
#   make bench-micro  micro-benchmarks of the core (Google Benchmark), next
#                to openssl speed's verify rates
#   make fuzz    every libFuzzer target, FUZZ_SECONDS each: the core's parsers
#                (src/core/fuzz) and the module's Cookie header and Redis
#                reply handling (src/ngx/fuzz); with NGINX_FULL_SRC=<a full
#                nginx source tree of NGINX_SRC's release> also the HTTP
#                client's response handling, fuzz_http_response, which
#                needs nginx's ngx_http_parse.c (nginx-dev has headers only)
#   make test-asan  the integration tests with core and module built with
#                AddressSanitizer and UndefinedBehaviorSanitizer
#   make load    logins, request cost as the session store grows, and a long
#                run of requests, with worker pids, memory and logs watched
#   make load-asan  a shorter load run under the sanitizers, leaks checked
#   make deb     the Debian package libnginx-mod-http-auth-oidc in build/deb
#                (as Debian builds its nginx modules: debian/), lintian run
#   make test-deb  make deb, then install, load through modules-enabled, the
#                demo's login, remove and purge on this machine (root; CI)
#   make install the module and its mod-http-auth-oidc.conf where Debian's
#                nginx looks (DESTDIR=, PREFIX=/usr); not enabled
#
# NGINX_SRC is an nginx source tree (Debian's nginx-dev by default); its
# conf_flags, when present, make the module binary-compatible with the
# installed /usr/sbin/nginx. Any other tree must be configured --with-compat.

NGINX_SRC        ?= /usr/share/nginx/src
NGINX_CONFIGURE  ?= --with-compat --with-http_ssl_module
NGINX_EXTRA      ?=
CORE_FLAGS       ?=
BUILD_TYPE       ?= RelWithDebInfo
JOBS             ?= 2
FUZZ_SECONDS     ?= 30
NGINX_FULL_SRC   ?=

BUILD_DIR        := $(CURDIR)/build
CORE_BUILD       := $(BUILD_DIR)/core
NGX_BUILD        := $(BUILD_DIR)/nginx
MODULE           := $(BUILD_DIR)/ngx_http_auth_oidc_module.so

APT_PACKAGES = build-essential cmake pkg-config git ca-certificates openssl \
               nginx nginx-dev libpcre2-dev zlib1g-dev libssl-dev \
               libcjose-dev libjansson-dev libhiredis-dev redis-server \
               libgtest-dev libbenchmark-dev clang chromium wrk \
               dpkg-dev debhelper lintian

.PHONY: all core module deps deps-apt deps-npm unittest itest test demo bench bench-micro fuzz \
        module-asan test-asan load load-asan deb test-deb install clean

all: module

core: deps-apt
	cmake -S . -B $(CORE_BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CORE_FLAGS)
	cmake --build $(CORE_BUILD) -j$(JOBS)

$(NGX_BUILD)/Makefile: config config.make Makefile
	mkdir -p $(NGX_BUILD)
	cd $(NGINX_SRC) && AUTH_OIDC_CORE_BUILD=$(CORE_BUILD) bash -c '\
	    flags=($(NGINX_CONFIGURE)); \
	    if [ -f conf_flags ]; then . ./conf_flags; flags=("$${NGX_CONF_FLAGS[@]}"); fi; \
	    cfg=./configure; [ -f $$cfg ] || cfg=auto/configure; \
	    $$cfg "$${flags[@]}" $(NGINX_EXTRA) --builddir=$(NGX_BUILD) \
	        --add-dynamic-module=$(CURDIR)' > $(NGX_BUILD)/configure.log 2>&1 \
	    || { tail -30 $(NGX_BUILD)/configure.log; exit 1; }

module: core $(NGX_BUILD)/Makefile
	$(MAKE) -C $(NGINX_SRC) -f $(NGX_BUILD)/Makefile modules
	cp $(NGX_BUILD)/ngx_http_auth_oidc_module.so $(MODULE)
	@echo "built $(MODULE)"

# Idempotent and quick when done: apt packages only when one is missing
# (that needs root, and says so), npm ci only when node_modules is missing
# or older than package-lock.json. make test and make demo run it first, so
# a fresh clone needs no other command.
deps: deps-apt deps-npm

deps-apt:
	@missing=$$(for p in $(APT_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" != 0 ]; then \
	        echo "missing Debian packages: $$missing" >&2; \
	        echo "run 'make deps' as root (or: sudo apt-get install" \
	             "$$missing), then this command again" >&2; \
	        exit 1; \
	    fi; \
	    echo "installing:" $$missing; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -q --no-install-recommends $$missing; \
	fi

deps-npm:
	@if [ ! -f node_modules/.package-lock.json ] \
	    || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	    npm ci --no-audit --no-fund; \
	fi

unittest: core
	ctest --test-dir $(CORE_BUILD) --output-on-failure

itest: deps-npm module
	node --test --test-concurrency=2 t/*.test.mjs

test: unittest itest

demo: deps-npm module
	node t/demo/demo.mjs

bench: deps-npm module
	node bench/run.mjs $(BENCH_ARGS)

# MICRO_ARGS go to auth_oidc_micro, e.g. --benchmark_filter=IdToken.
MICRO_ARGS       ?=
MICRO_BUILD      := $(BUILD_DIR)/micro

bench-micro:
	cmake -S . -B $(MICRO_BUILD) -DAUTH_OIDC_BENCH=ON -DAUTH_OIDC_TESTS=OFF \
	    -DCMAKE_BUILD_TYPE=Release
	cmake --build $(MICRO_BUILD) -j$(JOBS)
	$(MICRO_BUILD)/auth_oidc_micro --benchmark_out=$(MICRO_BUILD)/micro.json \
	    --benchmark_out_format=json $(MICRO_ARGS)
	node bench/micro/compare.mjs $(MICRO_BUILD)/micro.json 3

# The module instrumented, inside Debian's (uninstrumented) nginx: the
# sanitizer runtimes are preloaded by t/lib/nginx-asan.sh, and a report in
# an error log fails the test that caused it.
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined

ASAN_MODULE = $(CURDIR)/build/asan/ngx_http_auth_oidc_module.so

module-asan:
	$(MAKE) module BUILD_DIR=$(CURDIR)/build/asan \
	    CORE_FLAGS="-DAUTH_OIDC_TESTS=OFF -DAUTH_OIDC_WERROR=OFF \
	        -DCMAKE_C_FLAGS='$(SANITIZE)' -DCMAKE_CXX_FLAGS='$(SANITIZE)'" \
	    NGINX_EXTRA="--with-cc-opt=\"$(SANITIZE)\" \
	        --with-ld-opt=\"-fsanitize=address,undefined\""

test-asan: deps-npm module-asan
	NGINX_BIN=$(CURDIR)/t/lib/nginx-asan.sh AUTH_OIDC_MODULE=$(ASAN_MODULE) \
	    node --test --test-concurrency=2 t/*.test.mjs

# Load: many logins, the request cost as the store grows, a long run of
# requests; worker pids, memory and the error log watched (bench/README.md).
LOAD_ARGS ?=

load: deps-npm module
	node bench/load.mjs $(LOAD_ARGS)

# The same, shorter, with the sanitizer build and LeakSanitizer on: the
# workers report leaks when nginx stops them at the end.
LOAD_ASAN_ARGS ?= --sessions 1000,5000 --requests 200000 --seconds 2

load-asan: deps-npm module-asan
	for store in shm redis; do \
	    NGINX_BIN=$(CURDIR)/t/lib/nginx-asan.sh AUTH_OIDC_MODULE=$(ASAN_MODULE) \
	    ASAN_OPTIONS=detect_leaks=1 \
	        node bench/load.mjs --store $$store $(LOAD_ASAN_ARGS) || exit 1; \
	done

# Each target starts from its seeds in src/core/fuzz/corpus/<name> or
# src/ngx/fuzz/corpus/<name> and grows its own corpus under
# build/fuzz/corpus; a crash stops. The targets of src/ngx compile the
# module's C files against nginx's headers and the configured build/nginx;
# fuzz_http_response also compiles .c files of NGINX_FULL_SRC (opt-in).
fuzz: $(NGX_BUILD)/Makefile
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_DIR)/fuzz \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTH_OIDC_FUZZ=ON \
	    -DAUTH_OIDC_TESTS=OFF -DAUTH_OIDC_NGINX_SRC=$(NGINX_SRC) \
	    -DAUTH_OIDC_NGINX_OBJS=$(NGX_BUILD) \
	    -DAUTH_OIDC_NGINX_FULL_SRC=$(abspath $(NGINX_FULL_SRC))
	cmake --build $(BUILD_DIR)/fuzz -j$(JOBS)
	@if [ -z "$(NGINX_FULL_SRC)" ]; then \
	    rm -f $(BUILD_DIR)/fuzz/fuzz_http_response; \
	    echo "fuzz_http_response skipped: it needs nginx's" \
	        "ngx_http_parse.c, which nginx-dev lacks;" \
	        "pass NGINX_FULL_SRC=<full nginx source tree>"; \
	fi
	@for f in $(BUILD_DIR)/fuzz/fuzz_*; do \
	    [ -x "$$f" ] || continue; \
	    name=$$(basename $$f); \
	    corpus=$(BUILD_DIR)/fuzz/corpus/$$name; \
	    seeds=src/core/fuzz/corpus/$${name#fuzz_}; \
	    [ -d $$seeds ] || seeds=src/ngx/fuzz/corpus/$${name#fuzz_}; \
	    mkdir -p $$corpus; \
	    echo "== $$name for $(FUZZ_SECONDS) s"; \
	    if ! $$f -max_total_time=$(FUZZ_SECONDS) $$corpus $$seeds \
	            > $$corpus.log 2>&1; then \
	        tail -40 $$corpus.log; exit 1; \
	    fi; \
	    tail -1 $$corpus.log; \
	done

# The package is built from the tracked files only (no build/, no
# node_modules), in a copy under build/deb, with dpkg-buildpackage.
DEB_VERSION := $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
DEB_BUILD   := $(BUILD_DIR)/deb
DEB_FILE     = $(DEB_BUILD)/libnginx-mod-http-auth-oidc_$(DEB_VERSION)_$(shell dpkg --print-architecture).deb

deb:
	rm -rf $(DEB_BUILD)
	mkdir -p $(DEB_BUILD)/nginx-auth-oidc-$(DEB_VERSION)
	git ls-files -z | xargs -0 tar cf - | tar xf - -C $(DEB_BUILD)/nginx-auth-oidc-$(DEB_VERSION)
	cd $(DEB_BUILD)/nginx-auth-oidc-$(DEB_VERSION) && \
	    DEB_BUILD_OPTIONS="parallel=$(JOBS)" dpkg-buildpackage -us -uc -b
	lintian --info --display-info $(DEB_BUILD)/*.changes | tee $(DEB_BUILD)/lintian.txt
	@echo "built $(DEB_FILE)"

test-deb: deps-npm deb
	DEB_FILE=$(DEB_FILE) node --test t/package/deb.test.mjs

# For who builds from source: Debian's paths; enable it with a link in
# /etc/nginx/modules-enabled (or a load_module line).
PREFIX  ?= /usr
DESTDIR ?=

install: module
	install -D -m 0644 $(MODULE) \
	    $(DESTDIR)$(PREFIX)/lib/nginx/modules/ngx_http_auth_oidc_module.so
	install -d $(DESTDIR)$(PREFIX)/share/nginx/modules-available
	echo "load_module modules/ngx_http_auth_oidc_module.so;" \
	    > $(DESTDIR)$(PREFIX)/share/nginx/modules-available/mod-http-auth-oidc.conf
	@echo "installed; enable with: ln -s $(PREFIX)/share/nginx/modules-available/mod-http-auth-oidc.conf /etc/nginx/modules-enabled/50-mod-http-auth-oidc.conf"

clean:
	rm -rf $(BUILD_DIR)
