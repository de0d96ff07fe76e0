# The two commands of the course: `make book` and `make test`.
# Each creates .venv and installs requirements.txt, at the versions of
# requirements.lock, when needed. Offline machines need nothing more here: the
# chapters copy Debian's dataset-fashion-mnist into Keras' cache themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NEED_PYTHON := $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	{ echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }

# Hide TensorFlow's start-up notices about missing GPU libraries.
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: book test colab student grade bench venv lock sync fork clean help

help:
	@echo "make book    build the website into _build/html (full mode; AE_BOOK_QUICK=1 for quick)"
	@echo "make test    run the unit tests, every chapter in quick mode, and a book build"
	@echo "make colab   run every chapter once in quick mode on Google Colab's versions"
	@echo "make venv    create .venv with requirements.txt at the versions of requirements.lock"
	@echo "make lock    rewrite requirements.lock with the newest versions requirements.txt allows"
	@echo "make student write the graded labs: the student release into _build/student,"
	@echo "             nbgrader's course folder (with the hidden tests) into _build/labs"
	@echo "make grade LAB=01 SUBMISSIONS=folder   grade a lab's <student>_01.ipynb files:"
	@echo "             scores.csv and feedback per student in _build/grades/01"
	@echo "make bench   training throughput, then every chapter's time (AE_BOOK_QUICK=1: quick)"
	@echo "make sync    pair notebooks and their .py files, and write notebooks/ae_blocks.py"
	@echo "make fork REPO=owner/name   name a fork in _config.yml and every chapter"
	@echo "make clean   remove _build (the site, the execution cache, the results)"

venv: $(STAMP)

$(STAMP): requirements.txt requirements.lock
	@$(NEED_PYTHON)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c requirements.lock
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 \
		--display-name "Python 3 (autoencoder course)" >/dev/null
	touch $@

# New versions (README.md, "Updating the versions"): install requirements.txt
# alone into a fresh temporary venv and write down what it resolved to. Commit
# the lock only after `make test` has passed with it from a fresh clone.
lock:
	@$(NEED_PYTHON)
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip; \
	"$$tmp/venv/bin/python" -m pip install --quiet -r requirements.txt; \
	version=$$("$$tmp/venv/bin/python" -c 'import platform; print(platform.python_version())'); \
	{ echo "# The versions that \`make test\` passed with. \`make\` installs requirements.txt"; \
	  echo "# with this file as constraints; \`make lock\` rewrites it (README.md)."; \
	  echo "# Resolved with Python $$version on $$(uname -s) $$(uname -m)."; \
	  "$$tmp/venv/bin/python" -m pip freeze --all --exclude-editable \
	    | grep -vE '^(pip|setuptools)=='; } > "$$tmp/lock"; \
	mv "$$tmp/lock" requirements.lock
	@echo "Wrote requirements.lock. Run make test from a fresh clone, then commit it with requirements.txt."

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html
	@echo "The site is in _build/html/index.html"

test: $(STAMP)
	AE_BOOK_QUICK=1 $(BIN)/python -m pytest

# The chapters on Google Colab's own versions (constraints/colab.txt), in a
# virtual environment of their own: each chapter runs once, in quick mode.
COLAB_VENV := .venv-colab
COLAB_STAMP := $(COLAB_VENV)/.installed
COLAB_PACKAGES := tensorflow keras tensorboard numpy scipy scikit-learn matplotlib \
	mlxtend pandas ipykernel nbclient nbformat pyyaml

$(COLAB_STAMP): constraints/colab.txt
	@$(NEED_PYTHON)
	test -x $(COLAB_VENV)/bin/python || $(PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COLAB_VENV)/bin/python -m pip install --quiet -c constraints/colab.txt \
		$(COLAB_PACKAGES)
	$(COLAB_VENV)/bin/python -m ipykernel install --sys-prefix --name python3 \
		--display-name "Python 3 (Colab's versions)" >/dev/null
	touch $@

colab: $(COLAB_STAMP)
	$(COLAB_VENV)/bin/python tools/run_chapters.py --quick --no-log-lines

# Graded labs (README.md, "Graded labs"): nbgrader releases every chapter with its
# solutions replaced by stubs, and grades a folder of submissions, with no server.
student: $(STAMP)
	$(BIN)/python tools/make_labs.py --output _build/student --course _build/labs

grade: $(STAMP)
	@test -n "$(LAB)" -a -n "$(SUBMISSIONS)" || \
		{ echo "usage: make grade LAB=01 SUBMISSIONS=folder"; exit 2; }
	$(BIN)/python tools/grade_labs.py --lab "$(LAB)" "$(SUBMISSIONS)"

# Benchmarks (benchmarks/README.md): prints tables and budgets, fails only on errors.
# A quick run: AE_BOOK_QUICK=1 make bench, or pass THROUGHPUT_ARGS / CHAPTER_ARGS.
bench: $(STAMP)
	$(BIN)/python benchmarks/training_throughput.py $(THROUGHPUT_ARGS)
	$(BIN)/python benchmarks/chapter_times.py $(CHAPTER_ARGS)

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/[0-9]*.ipynb
	$(BIN)/python tools/sync_blocks.py

# A fork names itself once; the chapters' Colab cell follows (README.md).
fork: $(STAMP)
	@test -n "$(REPO)" || { echo "usage: make fork REPO=owner/name"; exit 2; }
	$(BIN)/python tools/course_ref.py --repository $(REPO)

clean:
	rm -rf _build
