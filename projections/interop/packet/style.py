"""The stylesheet of the packet and the review report: inline, light, and made to print.

In print every page carries a running header (patient reference, episode, dates)
and its number; tables are laid out to the page width and wrap long words, so no
column runs past the margin.
"""

CSS = """
@page { size: letter; margin: 14mm 12mm; }
* { box-sizing: border-box; }
html, body { background: #ffffff; color: #1f2933; }
body { font: 10.5pt/1.45 Helvetica, Arial, sans-serif; max-width: 1000px; margin: 0 auto;
  padding: 24px 28px; }
h1 { font-size: 19pt; margin: 0 0 4px; }
h2 { font-size: 14pt; margin: 0 0 10px; padding-bottom: 4px; border-bottom: 2px solid #1f6fb2; }
h3 { font-size: 11.5pt; margin: 16px 0 6px; }
p { margin: 4px 0 8px; }
.lead { color: #52606d; }
header { border-bottom: 1px solid #d9dee3; padding-bottom: 12px; margin-bottom: 16px; }
section { margin: 26px 0; }
nav ol { columns: 2; margin: 6px 0 0; padding-left: 20px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 9.5pt;
  table-layout: fixed; }
th, td { border: 1px solid #d9dee3; padding: 3px 6px; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; word-break: normal; hyphens: auto; }
th { background: #f3f6f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: 190px 1fr; gap: 2px 12px; margin: 6px 0 10px; }
dl.facts dt { color: #52606d; }
dl.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
h1, h3, p, li { overflow-wrap: anywhere; }
.visit { border: 1px solid #d9dee3; border-left: 4px solid #1f6fb2; padding: 8px 12px; margin: 12px 0; }
.visit.voided { border-left-color: #7b8794; }
.visit h3 { margin-top: 2px; }
.note-text { white-space: pre-wrap; }
.explain { color: #3e4c59; font-size: 9pt; margin: 2px 0 6px 18px; padding: 0; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 8.5pt; border: 1px solid; }
.badge.error { color: #b71c1c; border-color: #e57373; background: #fdecea; }
.badge.warning { color: #8a5300; border-color: #f0b35c; background: #fff4e5; }
.badge.info { color: #1c4f80; border-color: #90b8dd; background: #eaf2fb; }
.badge.ok { color: #1b5e20; border-color: #81c784; background: #edf7ee; }
.badge.late { color: #8a5300; border-color: #f0b35c; background: #fff4e5; }
.verdict { font-size: 12pt; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 10px; }
svg.chart { border: 1px solid #e4e7eb; max-width: 100%; height: auto; }
.legend span { margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; }
footer { margin-top: 28px; color: #7b8794; font-size: 8.5pt; border-top: 1px solid #d9dee3;
  padding-top: 6px; }
@media print {
  body { padding: 0; max-width: none; font-size: 9.5pt; }
  nav ol { columns: 2; }
  section { margin: 0 0 18px; }
  section.new-page { break-before: page; page-break-before: always; }
  .visit, tr, svg.chart, dl.facts { break-inside: avoid; page-break-inside: avoid; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _css_string(text: str) -> str:
    """Quote text as a CSS string: every character but letters, digits and spaces as an escape."""
    kept = "".join(c if c.isascii() and (c.isalnum() or c == " ") else f"\\{ord(c):06x} " for c in text)
    return f'"{kept}"'


def html_page(title: str, running: str, body: str) -> str:
    """Return a whole self-contained HTML document: `title`, `running` atop each printed page, `body`.

    `title` and `body` are HTML already (escape before); `running` is plain text.
    """
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="careledger">'
        f"<title>{title}</title><style>{CSS}{page_css(running)}</style></head>\n<body>\n"
        f"{body}\n</body></html>\n"
    )


def page_css(running: str) -> str:
    """Return the print rules that put `running` atop every page and its number at the foot."""
    return (
        "@page { @top-left { content: " + _css_string(running) + "; font: 8pt Helvetica, Arial, sans-serif; "
        'color: #52606d; } @bottom-right { content: "Page " counter(page) " of " counter(pages); '
        "font: 8pt Helvetica, Arial, sans-serif; color: #52606d; } }"
    )
