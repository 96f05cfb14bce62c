"""MkDocs hooks of the documentation site (``hooks:`` in ``mkdocs.yml``).

- The recorded results under ``benchmarks/results/`` are served at the same path in
  the site, so a page links to one as it lies in the repository (from
  ``docs/guide/defaults.md``: ``../benchmarks/results/defaults.json``), and the
  strict build checks every such link.
- A gallery page opens with its example's title (the first paragraph of its docstring,
  which mkdocs-gallery shows as a plain paragraph) as its heading, and the navigation
  names it by its file (``anomaly_detection.py``).
- After the build, every example of the gallery must have printed its line of
  ``docs/gallery_conf.py``'s ``EXPECTED``: a missing one fails the build, naming
  the example and the end of what it printed (mkdocs-gallery itself fails the
  build, with the traceback, when an example raises).
"""

import importlib.util
import pathlib
import re

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = "benchmarks/results"

# What an example printed, as mkdocs-gallery writes it into the example's page.
_OUTPUT = re.compile(r"^```\{\.shell \.mkd-glr-script-out-disp \}\n(.*?)^```", re.DOTALL | re.MULTILINE)

# The first paragraph after the note mkdocs-gallery opens an example's page with.
_TITLE = re.compile(r"^!!! note\n\n(?:    .*\n|\n)*?\n(?P<title>\S.*(?:\n\S.*)*)\n", re.MULTILINE)

def _gallery_conf():
    spec = importlib.util.spec_from_file_location("_gallery_conf", ROOT / "docs" / "gallery_conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gallery_dir(config):
    """The folder mkdocs-gallery writes its pages to, absolute."""
    folder = pathlib.Path(config["plugins"]["gallery"].config["gallery_dirs"][0])
    return (pathlib.Path(config["config_file_path"]).parent / folder).resolve()


def on_files(files, config):
    for path in sorted((ROOT / RESULTS).iterdir()):
        if path.is_file() and not path.name.startswith("."):
            files.append(File(f"{RESULTS}/{path.name}", str(ROOT), config["site_dir"],
                              config["use_directory_urls"]))
    return files


def _gallery_pages(config):
    """The folder of the gallery's pages, relative to docs/, with a trailing slash."""
    docs = pathlib.Path(config["docs_dir"]).resolve()
    return _gallery_dir(config).relative_to(docs).as_posix() + "/"


def on_nav(nav, config, files):
    folder = _gallery_pages(config)
    for page in nav.pages:
        uri = page.file.src_uri
        if uri.startswith(folder) and page.file.name != "index":
            page.title = pathlib.PurePosixPath(uri).stem + ".py"  # short, as the guide names them
    return nav


def on_page_markdown(markdown, page, config, files):
    if not page.file.src_uri.startswith(_gallery_pages(config)) or page.file.name == "index":
        return markdown
    # mkdocs-gallery writes the docstring's first paragraph, the example's title, as the
    # first paragraph after its "download" note: make it the page's heading.
    match = _TITLE.search(markdown)
    if match:
        title = " ".join(match["title"].split())
        markdown = f"# {title}\n\n" + markdown[: match.start("title")] + markdown[match.end("title"):]
    return markdown


def on_post_build(config):
    if not config["plugins"]["gallery"].config["plot_gallery"]:
        return
    expected = _gallery_conf().EXPECTED
    pages = _gallery_dir(config)
    problems = []
    for example in sorted((ROOT / "examples").glob("*.py")):
        if example.name not in expected:
            problems.append(f"{example.name}: no expected line in docs/gallery_conf.py's EXPECTED")
            continue
        page = pages / f"{example.stem}.md"
        printed = "\n".join(_OUTPUT.findall(page.read_text(encoding="utf-8"))) if page.is_file() else ""
        if expected[example.name] not in printed:
            tail = "\n    ".join(printed.strip().splitlines()[-15:]) or "(nothing)"
            problems.append(f"{example.name}: its output lacks {expected[example.name]!r}; "
                            f"the end of what it printed:\n    {tail}")
    if problems:
        raise PluginError("gallery examples did not print what they should:\n" + "\n".join(problems))
