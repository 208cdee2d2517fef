# Backline: `make run` and `make test` work from a fresh Debian bookworm machine.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
DATA ?= var
CMAKE_FLAGS ?=

.PHONY: all deps configure build run demo test bench fuzz sanitize clean format

all: build

deps:
	@deploy/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Starts the engine on its embedded default (RocksDB log in ./var, no Kafka).
run: build
	$(BUILD_DIR)/tools/backlined --data $(DATA) --demo

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	bench/run.sh $(BUILD_DIR)

sanitize:
	$(MAKE) test BUILD_DIR=build-asan BUILD_TYPE=Debug CMAKE_FLAGS="-DBACKLINE_SANITIZE=ON -DBACKLINE_BENCH=OFF"

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
