# The two commands of the course: `make book` and `make test`.
# Each creates .venv and installs requirements.txt when needed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERAS_DATA := $(or $(KERAS_HOME),$(HOME)/.keras)/datasets
DEBIAN_FASHION := /usr/share/datasets/fashion-mnist
FASHION_FILES := train-labels-idx1-ubyte.gz train-images-idx3-ubyte.gz \
	t10k-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz

# Hide TensorFlow's start-up notices about missing GPU libraries.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: book test student bench venv data sync clean help

help:
	@echo "make book    build the website into _build/html (full mode; AE_BOOK_QUICK=1 for quick)"
	@echo "make test    run the unit tests, every chapter in quick mode, and a book build"
	@echo "make venv    create .venv with requirements.txt"
	@echo "make student write the lab version of every chapter (solutions removed) into _build/student"
	@echo "make bench   training throughput, then every chapter's time (AE_BOOK_QUICK=1: quick)"
	@echo "make sync    pair notebooks and their .py files again after an edit"
	@echo "make clean   remove _build (the site, the execution cache, the results)"

venv: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python 3.10 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 \
		--display-name "Python 3 (autoencoder course)" >/dev/null
	touch $@

# Offline machines: seed Keras' cache from Debian's dataset-fashion-mnist.
data:
	@if [ -d $(DEBIAN_FASHION) ] && [ ! -f $(KERAS_DATA)/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then \
		mkdir -p $(KERAS_DATA)/fashion-mnist && \
		for f in $(FASHION_FILES); do cp $(DEBIAN_FASHION)/$$f $(KERAS_DATA)/fashion-mnist/; done && \
		echo "Copied Fashion-MNIST from $(DEBIAN_FASHION) into $(KERAS_DATA)/fashion-mnist"; \
	fi

book: $(STAMP) data
	$(BIN)/jupyter-book build . --builder html
	@echo "The site is in _build/html/index.html"

test: $(STAMP) data
	AE_BOOK_QUICK=1 $(BIN)/python -m pytest

# Lab exercises: every chapter with its solutions replaced by stubs, and helpers.py.
student: $(STAMP)
	$(BIN)/python tools/make_student.py --output _build/student

# Benchmarks (benchmarks/README.md): prints tables and budgets, fails only on errors.
# A quick run: AE_BOOK_QUICK=1 make bench, or pass THROUGHPUT_ARGS / CHAPTER_ARGS.
bench: $(STAMP) data
	$(BIN)/python benchmarks/training_throughput.py $(THROUGHPUT_ARGS)
	$(BIN)/python benchmarks/chapter_times.py $(CHAPTER_ARGS)

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/[0-9]*.ipynb

clean:
	rm -rf _build
