# diffuser — build, test, demo. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
FUZZTIME ?= 60s
BIN := bin/diffuser
PKGS := ./...
# VERSION is stamped into the binary (diffuser --version). Without git, or outside a
# checkout, it is empty and the binary reports the module and VCS information instead.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)

.PHONY: help setup setup-demo build demo demo-destroy test test-fast lint bench bench-peers bench-cache e2e e2e-s3 fuzz reliability docs clean soak

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## install what the demo, the tests and lint need (idempotent; prints only what it installs)
	@scripts/setup.sh all

setup-demo: ## install only what make demo needs: Docker Engine, debootstrap, losetup, loop module, inotify limits
	@scripts/setup.sh demo

build: ## build bin/diffuser, stamped with VERSION (git describe --tags --always --dirty)
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/diffuser

demo: setup-demo build ## real local GlusterFS cluster: apply, mount, verify
	@scripts/demo.sh

demo-destroy: build ## remove everything make demo made
	@scripts/demo.sh destroy

test-fast: ## unit and golden tests, no containers (seconds)
	$(GO) test -short -count=1 $(PKGS)

test: setup build lint ## everything: units, real sshd, real containers, a real GlusterFS deploy
	$(GO) test -count=1 -timeout 40m $(PKGS)

lint: ## gofmt, go mod tidy, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	$(GO) vet $(PKGS)
	@[ -x bin/staticcheck ] || scripts/setup.sh lint
	bin/staticcheck $(PKGS)

bench: build ## benchmarks with numbers and ratios
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 120m ./engine/ ./lang/ ./state/ ./remote/ ./cloud/... ./workspace/

bench-peers: setup-demo build ## diffuser vs Ansible (defaults, tuned) vs OpenSSH (with/without ControlMaster): 20 trivial steps on 4 and 16 docker hosts, and a GlusterFS 2+1 deploy vs an Ansible playbook, with ratios (installs ansible-core if missing)
	@scripts/bench-peers.sh

bench-cache: setup-demo build ## a GlusterFS 2+1 deploy with package_cache off, then on twice (cold, warm): apply time, package phase, files from the mirror vs to hosts (BENCH_CACHE_SIZES="2+1 10+10")
	@scripts/bench-cache.sh

e2e: setup build ## every built-in recipe deployed for real, and a compare of nfs and glusterfs (slow); one alone: make e2e RECIPE=ceph (or RECIPE=compare)
	$(GO) test -count=1 -timeout 120m -tags e2e -run 'TestE2E$(if $(RECIPE),/$(RECIPE),)' -v ./workspace/

soak: setup-demo build ## N fresh deploy+verify+destroy cycles in a row: make soak RECIPE=glusterfs N=20; prints the success rate and each failure's step, host and log
	@scripts/soak.sh

reliability: setup build ## crash safety (20 SIGKILLs), host loss, locks, peer tools on the same hosts, data safety, secrets, bad input; prints kills/converged/duplicates
	$(GO) test -count=1 -timeout 60m -tags reliability -v -run 'TestReliability|TestRealHost|TestRealPeers' ./workspace/
	$(GO) test -count=1 -run 'TestFstab|TestAptLock' ./steps/
	$(GO) test -count=1 -timeout 60m -tags reliability -v -run 'TestReliability|TestRealHost|TestBad|TestNoSecretsInOutput' ./cmd/diffuser/
	$(GO) test -count=1 -run 'TestKilledWriter|TestLock|TestFallbackLock' ./state/
	$(GO) test -count=1 -run 'HostKey|Pinned|TrustOnFirstUse' ./remote/

e2e-s3: ## the S3 state backend against a real S3 server: DIFFUSER_E2E_S3_ENDPOINT/_BUCKET/_REGION and AWS keys; without them it deploys ceph with a RADOS gateway and runs the same tests there (docs/state.md)
	@if [ -n "$$DIFFUSER_E2E_S3_BUCKET" ]; then \
		$(GO) test -count=1 -tags e2e -run 'TestRealS3Contract|TestRealS3ConditionalCreatesRace|TestS3KillResumeContendReal' -v -timeout 20m ./state/s3store/ ./cmd/diffuser/; \
	else \
		$(MAKE) e2e RECIPE='ceph-s3$$'; \
	fi

e2e-aws: ## the aws provider against real EC2 (needs AWS credentials; skips, saying so, without them)
	$(GO) test -count=1 -tags e2eaws -run TestE2EAWS -v -timeout 30m ./cloud/aws/

fuzz: ## fuzz the recipe loader (with modules), the state reader and its journal lines, FUZZTIME each (default 60s)
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./lang/
	$(GO) test -run '^$$' -fuzz '^FuzzLoadModules$$' -fuzztime $(FUZZTIME) ./lang/
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./state/
	$(GO) test -run '^$$' -fuzz '^FuzzInstanceLine$$' -fuzztime $(FUZZTIME) ./state/
	$(GO) test -run '^$$' -fuzz '^FuzzHostLine$$' -fuzztime $(FUZZTIME) ./state/

docs: ## regenerate docs/commands from the CLI's help (a test fails when it is stale)
	$(GO) test -count=1 -run '^TestCommandDocs$$' ./cmd/diffuser/ -update

clean: ## remove build outputs
	rm -rf bin/diffuser
