"""Name the course's repository and ref, in _config.yml and in every chapter.

    python tools/course_ref.py --check                      # do they agree?
    python tools/course_ref.py --repository OWNER/REPO      # a fork, in one command
    python tools/course_ref.py --ref site-0123456789ab      # a published ref
    python tools/course_ref.py --publish --sha SHA --remote origin

_config.yml's `repository` (url and branch) is the one place that names the
repository and the ref: the website's launch buttons open the chapters from
there. A chapter opened in Colab is alone, so its first cell carries a copy, the
COURSE_URL from which it fetches helpers.py and ae_blocks.py. This tool writes
that copy into every chapter (the .ipynb and its .py pair) from _config.yml.

--publish is what the publishing workflow runs for the commit SHA it builds: it
names the ref site-<first 12 digits of SHA>, writes it into _config.yml and the
chapters, commits that on top of SHA (not on any branch), tags the commit with
the ref and pushes the tag. The site built from that tree opens every chapter at
the tag, and the chapter fetches its modules from the same tag: a notebook and
the helpers it runs with come from one ref, however long ago it was opened.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
RAW = "https://raw.githubusercontent.com/"
GITHUB = "https://github.com/"
URL_LINE = re.compile(r"^(\s*url:\s*)(\S+)\s*$", re.M)
BRANCH_LINE = re.compile(r"^(\s*branch:\s*)(\S+)\s*$", re.M)
# The URL as a chapter's first cell writes it: two string literals.
COURSE_URL = re.compile(
    r'"https://raw\.githubusercontent\.com/(?P<repo>[\w.-]+/[\w.-]+)/"'
    r'(?P<sep>(?:\\n|\s)+)"(?P<ref>[\w./-]+)/notebooks/"')
REPOSITORY = re.compile(r"^[\w.-]+/[\w.-]+$")
REF = re.compile(r"^[\w.-]+(/[\w.-]+)*$")


class RefError(ValueError):
    """The repository or ref cannot be written; the message says why."""


def chapter_files(root: Path = ROOT) -> list[Path]:
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return notebooks + [path.with_suffix(".py") for path in notebooks
                        if path.with_suffix(".py").exists()]


def _repository_section(text: str) -> tuple[int, int]:
    match = re.search(r"^repository:\s*\n((?:[ \t]+.*\n?)*)", text, re.M)
    if not match:
        raise RefError("_config.yml has no `repository:` section")
    return match.start(1), match.end(1)


def read_config(root: Path = ROOT) -> tuple[str, str]:
    """Return (OWNER/REPO, ref) from _config.yml's repository section."""
    text = (root / "_config.yml").read_text()
    start, end = _repository_section(text)
    section = text[start:end]
    url, branch = URL_LINE.search(section), BRANCH_LINE.search(section)
    if not url or not branch or not url.group(2).startswith(GITHUB):
        raise RefError("_config.yml's repository needs `url: https://github.com/"
                       "OWNER/REPO` and `branch: REF`")
    return url.group(2).removeprefix(GITHUB).strip("/"), branch.group(2)


def write_config(repository: str, ref: str, root: Path = ROOT) -> None:
    path = root / "_config.yml"
    text = path.read_text()
    start, end = _repository_section(text)
    section = URL_LINE.sub(lambda m: m.group(1) + GITHUB + repository,
                           text[start:end], count=1)
    section = BRANCH_LINE.sub(lambda m: m.group(1) + ref, section, count=1)
    path.write_text(text[:start] + section + text[end:])


def _source(path: Path) -> str:
    """A chapter file's code as written: the .py pair, or the notebook's cells."""
    if path.suffix != ".ipynb":
        return path.read_text()
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in notebook.cells)


def _rewrite(path: Path, change) -> bool:
    """Apply `change` to the code of a chapter file; return True if it changed."""
    if path.suffix != ".ipynb":
        text = path.read_text()
        new = change(text)
        path.write_text(new)
        return new != text
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for cell in notebook.cells:
        new = change(cell.source)
        changed |= new != cell.source
        cell.source = new
    if changed:
        nbformat.write(notebook, path)
    return changed


def urls_in(path: Path) -> list[tuple[str, str]]:
    """The (OWNER/REPO, ref) of every COURSE_URL in a chapter file."""
    return [(m.group("repo"), m.group("ref"))
            for m in COURSE_URL.finditer(_source(path))]


def stamp(repository: str, ref: str, root: Path = ROOT) -> list[Path]:
    """Write the repository and ref into _config.yml and every chapter's URL."""
    if not REPOSITORY.match(repository):
        raise RefError(f"the repository must look like OWNER/REPO, got {repository!r}")
    if not REF.match(ref):
        raise RefError(f"the ref must be a branch, tag or commit name, got {ref!r}")
    changed = []
    for path in chapter_files(root):
        if len(urls_in(path)) != 1:
            raise RefError(f"{path.name} must hold its COURSE_URL once, in its "
                           "first cell")
    for path in chapter_files(root):
        if _rewrite(path, lambda text: COURSE_URL.sub(
                lambda m: f'"{RAW}{repository}/"{m.group("sep")}"{ref}/notebooks/"',
                text)):
            changed.append(path)
    write_config(repository, ref, root)
    return changed


def disagreements(root: Path = ROOT) -> list[str]:
    """What in the chapters does not name _config.yml's repository and ref."""
    expected = read_config(root)
    problems = []
    for path in chapter_files(root):
        found = urls_in(path)
        if found != [expected]:
            where = found or "nowhere"
            problems.append(f"{path.relative_to(root)} fetches from {where}"
                            f", _config.yml names {expected}")
    return problems


def publish(sha: str, remote: str, root: Path = ROOT) -> str:
    """Commit the chapters stamped with site-<sha> on top of sha, tag, push."""
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise RefError(f"--sha must be a full commit hash, got {sha!r}")
    ref = f"site-{sha[:12]}"

    def git(*args):
        subprocess.run(["git", *args], cwd=root, check=True)

    repository, _ = read_config(root)
    stamp(repository, ref, root)
    git("add", "_config.yml", "notebooks")
    git("-c", "user.name=course publisher", "-c", "user.email=publisher@localhost",
        "commit", "--quiet", "-m", f"Chapters of the site built from {sha}")
    git("tag", ref)
    git("push", "--quiet", remote, f"refs/tags/{ref}")
    return ref


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true",
                        help="exit 1 unless every chapter names _config.yml's ref")
    action.add_argument("--repository", metavar="OWNER/REPO",
                        help="name a repository (a fork) everywhere")
    action.add_argument("--ref", help="name a branch, tag or commit everywhere")
    action.add_argument("--publish", action="store_true",
                        help="stamp site-<sha>, commit, tag and push the tag")
    parser.add_argument("--sha", help="with --publish: the commit being published")
    parser.add_argument("--remote", default="origin",
                        help="with --publish: where to push the tag")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = disagreements()
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
        if args.publish:
            print(publish(args.sha or "", args.remote))
            return 0
        repository, ref = read_config()
        stamp(args.repository or repository, args.ref or ref)
    except RefError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
