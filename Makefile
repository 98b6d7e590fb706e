# Kairos: the two commands a fresh machine needs.
#   make demo   installs what is missing, builds in release and runs the synthetic-market demo
#   make test   installs what is missing and runs the whole test suite (plus the TSan suites)
# Other targets: build, bench, bench-short, tsan, clean.

SWIFT ?= swift
APT_PACKAGES := libzmq3-dev libhiredis-dev liburing-dev redis-server pkg-config
DEMO_ARGS ?=
# A module may import only the modules it declares in Package.swift (docs/architecture.md): an
# undeclared import that happens to resolve because the other module was built first is an error.
IMPORT_CHECK := --explicit-target-dependency-import-check error
TSAN_FILTER := RingStress|DemoThreaded|IngestThreaded|ZMQFeedThreaded|OrderWireThreaded|FeatureCacheThreaded|LiveRunThreaded|CurveSecurity

.PHONY: setup build demo test tsan bench bench-short clean

# Installs the system libraries only when one is missing (needs root or sudo then).
setup:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: setup
	$(SWIFT) build -c release --product kairos $(IMPORT_CHECK)

demo: build
	$$($(SWIFT) build -c release --show-bin-path)/kairos demo $(DEMO_ARGS)

test: setup
	$(SWIFT) build --build-tests $(IMPORT_CHECK)
	$(SWIFT) test --skip-build
	$(MAKE) tsan

# The suites that share memory across threads, under ThreadSanitizer (own build folder).
tsan: setup
	TSAN_OPTIONS=halt_on_error=1 $(SWIFT) test --sanitize=thread --scratch-path .build-tsan --filter "$(TSAN_FILTER)"

bench: setup
	cd Benchmarks && ./run.sh

bench-short: setup
	cd Benchmarks && ./run.sh --short

clean:
	rm -rf .build .build-tsan Benchmarks/.build
