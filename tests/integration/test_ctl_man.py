"""The manual pages say what the programs do.

- man/jalinctl.8 is generated from jalinctl's own tables (`jalinctl
  --man`, `make man`): it must be up to date, and name every command and
  option --help names, and no other;
- man/jalind.8 is written by hand: its OPTIONS are exactly those of
  `jalind -h`;
- man/jalin.conf.5 is written by hand: it lists every key `jalind -n`
  prints, in the right section, and no other, with the default jalind
  fills in and the bounds jalind enforces;
- all three render with `man -l` without a warning.
"""

import re
import shutil
import subprocess

import pytest

from conftest import ENV, JALIND, REPO, ctl

MAN = REPO / "man"
PAGES = ["jalinctl.8", "jalind.8", "jalin.conf.5"]


def render(page):
    """The page as man shows it, plain text, dashes as '-'."""
    env = dict(ENV, MANWIDTH="100", MAN_KEEP_FORMATTING="0")
    if shutil.which("man"):
        cmd = ["man", "--warnings", "-l", str(MAN / page)]
    else:
        cmd = ["groff", "-man", "-Tutf8", "-ww", str(MAN / page)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    text = re.sub(r".\x08", "", p.stdout)  # overstrike bold/underline
    text = text.replace("\u2010", "-").replace("\u2212", "-")
    return text, p.stderr


def troff_text(s):
    """A troff source line as text: font escapes out, escapes resolved."""
    s = re.sub(r"\\f[BIRP]", "", s)
    return (s.replace(r"\-", "-").replace(r"\~", " ").replace(r"\e", "\\")
            .replace(r"\&", "").replace(r"\(em", "-"))


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_warnings(page):
    if not shutil.which("man") and not shutil.which("groff"):
        pytest.skip("neither man nor groff is installed (make deps)")
    text, err = render(page)
    assert err == "", err
    assert "NAME" in text and "SEE ALSO" in text


def test_jalinctl_page_is_generated_and_up_to_date():
    p = ctl("--man", check=True)
    assert p.stdout == (MAN / "jalinctl.8").read_text(), \
        "man/jalinctl.8 is out of date: run make man"


def section(text, name):
    """Lines of a top-level section of help or a rendered page."""
    m = re.search(rf"^ *{name}\n(.*?)(?=^ {{0,3}}[A-Z][A-Z ]+\n|\Z)", text,
                  re.S | re.M)
    assert m, f"no section {name}"
    return m.group(1)


def long_options(text):
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text))


def test_jalinctl_page_names_what_help_names():
    help_text = ctl("--help", check=True).stdout
    page, _ = render("jalinctl.8")
    # commands: the first word of each entry
    h_cmds = set(re.findall(r"^    ([a-z]+)", section(help_text,
                                                     "COMMANDS"), re.M))
    m_cmds = set(re.findall(r"^   ([a-z]+)", section(page, "COMMANDS"),
                            re.M))
    assert h_cmds and h_cmds == m_cmds
    # options, global and per command, and every one mentioned at all
    for name in ("OPTIONS", "COMMANDS"):
        assert long_options(section(help_text, name)) == \
            long_options(section(page, name)), name
    assert long_options(help_text) == long_options(page)
    h_short = set(re.findall(r"^    (-[a-zA-Z]),", section(help_text,
                                                          "OPTIONS"), re.M))
    m_short = set(re.findall(r"^       (-[a-zA-Z]),", section(page,
                                                            "OPTIONS"),
                             re.M))
    assert h_short == m_short == {"-c", "-s", "-h", "-V"}
    # the words of each command's help are the page's words
    flat = " ".join(page.split())
    for c in sorted(h_cmds):
        body = ctl(c, "--help", check=True).stdout
        desc = " ".join(section(body, "DESCRIPTION").split())
        first = " ".join(desc.split(" ")[:12])
        assert first in flat, c


def usage_options():
    p = subprocess.run([str(JALIND), "-h"], capture_output=True, text=True,
                       env=ENV, timeout=60)
    assert p.returncode == 0
    opts = set(re.findall(r"^  (-[a-zA-Z])\b", p.stdout, re.M))
    synopsis = [" ".join(x.split()[1:]) for x in p.stdout.splitlines()
                if x.lstrip().startswith(("usage:", "jalind "))]
    return opts, synopsis, p.stdout


def test_jalind_page_matches_its_usage():
    opts, synopsis, usage = usage_options()
    assert opts, usage
    src = (MAN / "jalind.8").read_text()
    body = src.split(".SH OPTIONS", 1)[1].split(".SH ", 1)[0]
    tags = re.findall(r"^\.TP\n(.*)$", body, re.M)
    page_opts = {re.match(r"(-[a-zA-Z])", troff_text(t).replace(
        ".B ", "").strip()).group(1) for t in tags}
    assert page_opts == opts
    page, _ = render("jalind.8")
    syn = " ".join(section(page, "SYNOPSIS").split())
    for line in synopsis:
        assert line in syn, line
    for sig in ("SIGTERM", "SIGINT", "SIGHUP"):
        assert sig in section(page, "SIGNALS")
    assert "EXIT STATUS" in page and "FILES" in page


# -- jalin.conf(5) --------------------------------------------------------

def conf_page():
    """{section: {key: entry text}} from the page's source."""
    src = (MAN / "jalin.conf.5").read_text()
    out = {}
    for m in re.finditer(r'^\.SH "THE \[(\w+)[^\]]*\] SECTIONS?"\n(.*?)'
                         r'(?=^\.SH |\Z)', src, re.S | re.M):
        keys = {}
        for e in re.finditer(r"^\.TP\n\.B (\w+)\n(.*?)(?=^\.TP|\Z)",
                             m.group(2), re.S | re.M):
            keys[e.group(1)] = troff_text(e.group(2))
        out[m.group(1)] = keys
    return out


def printed(text):
    """{section: {key: value}} from jalind -n's normalized output."""
    out, sect = {}, None
    for line in text.splitlines():
        m = re.match(r"\[(\w+)[^\]]*\]$", line)
        if m:
            sect = out.setdefault(m.group(1), {})
        elif " = " in line or line.endswith(" ="):
            k, _, v = line.partition(" =")
            sect[k] = v.strip()
    return out


def jalind_n(path):
    return subprocess.run([str(JALIND), "-n", "-c", str(path)],
                          capture_output=True, text=True, env=ENV,
                          timeout=60)


MINIMAL = """[node]
name = jabar
region = 32
data_dir = {dir}/data
{extra}
[peer banten]
address = 127.0.0.1:7421
"""


def minimal(tmp_path, extra=""):
    f = tmp_path / "jalin.conf"
    f.write_text(MINIMAL.format(dir=tmp_path, extra=extra))
    return f


def test_jalin_conf_page_lists_every_key(tmp_path):
    p = jalind_n(minimal(tmp_path))
    assert p.returncode == 0, p.stderr
    keys = {s: set(k) for s, k in printed(p.stdout).items()}
    page = {s: set(k) for s, k in conf_page().items()}
    assert page == keys


SIZE = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def as_printed(default, key, tmp_path):
    if default == "none":
        return ""
    if default == "the path of":
        return ""  # enc_key, enc_cert: derived from key, cert (unset here)
    if default == "DATA_DIR/jalind.sock":
        return f"{tmp_path}/data/jalind.sock"
    m = re.fullmatch(r"(\d+)([KMGT])", default)
    if m:
        return str(int(m.group(1)) * SIZE[m.group(2)])
    return default


def test_jalin_conf_page_defaults_are_jalinds(tmp_path):
    p = jalind_n(minimal(tmp_path))
    values = printed(p.stdout)
    for sect, keys in conf_page().items():
        for key, text in keys.items():
            m = re.search(r"Default: (.+?)(?: \(|\.?\n|\.$)", text)
            assert m, f"[{sect}] {key}: no Default"
            if key in ("name", "region", "data_dir") or (
                    sect == "peer" and key == "address"):
                continue  # required, or set by the minimal config
            assert as_printed(m.group(1), key, tmp_path) == \
                values[sect][key], f"[{sect}] {key}"


def ranges():
    for sect, keys in conf_page().items():
        for key, text in keys.items():
            m = re.search(r"Range: (\d+[KMGT]?)\.\.(\d+)?", text)
            if m:
                yield sect, key, m.group(1), m.group(2)


@pytest.mark.parametrize("sect,key,lo,hi", list(ranges()))
def test_jalin_conf_page_bounds_are_jalinds(tmp_path, sect, key, lo, hi):
    assert sect == "node"
    low = int(as_printed(lo, key, tmp_path))

    def check(value, ok):
        extra = f"{key} = {value}"
        if key == "region":
            text = MINIMAL.replace("region = 32", extra)
            f = tmp_path / "jalin.conf"
            f.write_text(text.format(dir=tmp_path, extra=""))
        else:
            f = minimal(tmp_path, extra)
        p = jalind_n(f)
        assert (p.returncode == 0) == ok, (extra, p.stderr)
        if not ok:
            assert f"[node] {key}:" in p.stderr, p.stderr

    check(low, True)
    if low > 0:
        check(low - 1, False)
    if hi is not None:
        check(int(hi), True)
        check(int(hi) + 1, False)
