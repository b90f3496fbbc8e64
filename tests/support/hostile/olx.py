"""Class F: OLX: entities, DTDs, nesting, encodings, sizes (threats.md F54-F60)."""

from __future__ import annotations

from .base import INTRO_XML, OUTRO_XML, Case, with_members

__all__ = ["cases"]

def _billion_laughs() -> str:
    """The classic: ten levels of ten references, 10**9 "lol"s once expanded."""
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "' + f"&lol{n - 1};" * 10 + '">' for n in range(1, 10)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n' + "\n".join(entities) + "\n]>\n"
            '<html display_name="&lol9;"><p>&lol9;</p></html>')


_XXE = ('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<html display_name="&xxe;"><p>&xxe;</p></html>')
_EXTERNAL_DTD = ('<?xml version="1.0"?>\n<!DOCTYPE html SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
                 '<html display_name="x"><p>&ext;</p></html>')
_PARAMETER_ENTITY = ('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY % pe SYSTEM "http://127.0.0.1:9/pe.dtd"> %pe;]>\n'
                     "<html/>")
_QUADRATIC = ('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY a "' + "A" * 50_000 + '">]>\n<html><p>'
              + "&a;" * 20_000 + "</p></html>")



def cases() -> list[Case]:
    """Class F, XML, in a fixed order."""
    return [
        Case("billion-laughs", with_members({INTRO_XML: _billion_laughs()}), INTRO_XML,
             "DOCTYPE declaration", "F54 / issue: billion laughs"),
        Case("quadratic-blowup", with_members({INTRO_XML: _QUADRATIC}), INTRO_XML, "DOCTYPE declaration", "F55"),
        Case("xxe-file-url", with_members({INTRO_XML: _XXE}), INTRO_XML, "DOCTYPE declaration",
             "F56 / issue: XXE with a file URL"),
        Case("external-dtd", with_members({INTRO_XML: _EXTERNAL_DTD}), INTRO_XML, "DOCTYPE declaration",
             "F57 / issue: external DTD"),
        Case("parameter-entity", with_members({INTRO_XML: _PARAMETER_ENTITY}), INTRO_XML, "DOCTYPE declaration",
             "F57"),
        Case("xml-deep-nesting", with_members({INTRO_XML: "<a>" * 5000 + "</a>" * 5000}), INTRO_XML,
             "not well-formed XML", "F58"),
        Case("xml-invalid-utf8", with_members({INTRO_XML: b'<html display_name="\xff\xfe"/>'}), INTRO_XML,
             "not valid UTF-8", "F60 / issue: invalid UTF-8 in block.xml"),
        Case("xml-two-roots", with_members({INTRO_XML: "<html/><html/>"}), INTRO_XML, "not well-formed XML", "F60"),
        Case("xml-undefined-entity", with_members({INTRO_XML: "<html>&nbsp;</html>"}), INTRO_XML,
             "not well-formed XML", "F60"),
        Case("xml-nul-char-ref", with_members({INTRO_XML: "<html>&#0;</html>"}), INTRO_XML,
             "not well-formed XML", "F60"),
        Case("xml-too-large", with_members({OUTRO_XML: "<html>" + "<p>x</p>" * 2000 + "</html>"}), OUTRO_XML,
             "above the limit of 1024 bytes", "F58 (limit from the CLI)", args=("--max-xml-size", "1KiB")),
    ]
