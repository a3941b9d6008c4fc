#!/usr/bin/env python3
"""The public C API of libshopcrm as a model, read from Doxygen's XML output.

This is the shared front end of the binding generators (bindings/gen/generate.py
for Python ctypes, bindings/gen/gen_node.py for the Node addon). It runs
Doxygen on include/ into a temporary directory, parses the XML with
xml.etree (Doxygen is a real C parser: declarations, parameter names and types
come from it, never from regular expressions over the headers), and returns an
``Api``:

``functions``  Function(name, ret, params, brief, header, returns, fallible)
               params: Param(name, ctype, direction) with direction 'in', 'out'
               or 'inout' (from the ``@param[out]`` documentation; 'in' when
               not marked); returns: the @return text; fallible: True when the
               function returns int and its @return lists SCRM_OK (a negative
               result is then an error code)
               ret_len / ret_shape: the declared length (shape) of a returned array;
               lengths / buffers: parameter -> declared length of an array
               parameter, or its (capacity, count) protocol (see below)
``enums``      Enum(name, values, brief, header); values: EnumValue(name, value, brief)
``defines``    Define(name, text, value, ctype, brief, header): object-like
               macros whose value is an integer or string constant
               (SCRM_*_OPTIONS_VERSION, SCRM_VERSION_*, SCRM_TIME_MIN, ...);
               value is a Python int or str, ctype 'int', 'int64_t',
               'uint64_t' or 'const char *'
``structs``    Struct(name, fields, brief, header, lengths); fields: Field(name, ctype, brief);
               lengths: field -> declared length of an array field
               in declaration order (the versioned options structs)
``callbacks``  Callback(name, ret, params, brief, header): typedef'd function pointers
``handles``    Handle(name, brief, header): typedefs of incomplete structs

Array lengths are declared in the doc comments with the aliases of
docs/Doxyfile.in (rendered as readable text, read back here from the XML):
``@scrm_len{expr}`` (in @return, a @param or a struct field's doc: the array
has / must hold expr elements), ``@scrm_shape{rows, cols}`` (in @return: a
row-major matrix of rows x cols), ``@scrm_buffer{cap, count}`` (in an output
array's @param: it holds ``cap`` elements, the count needed is written to
``count``; a first call with NULL asks for it). ``expr`` is the small language
of ``parse_len()``: integers, parameter (or sibling field) names, calls of
functions of the API, ``+ - *`` and parentheses, e.g.
``scrm_cohorts_count(r) * scrm_cohorts_periods(r)`` or ``bins - 1``.

Every ctype is normalised to one canonical spelling:
``[const ]BASE`` followed, for each pointer level, by ``*`` or ``*const``
separated by nothing and preceded by one space, e.g. ``int``, ``uint64_t *``,
``const char *const *``, ``scrm_dataset **``, ``const scrm_segment_map *``.
BASE is one of ``BASE_TYPES`` or the name of a handle, options struct,
callback or enum typedef of the model. ``parse_ctype()`` splits such a string
back into (base, base_const, pointer consts).

Anything the model cannot represent (a new base type, an array parameter, a
variadic function, a function-like macro, a macro whose value is not a
constant, an anonymous struct...) raises ``ApiError`` naming the
declaration, so a new header construct is never silently dropped.

Usage: ``python3 bindings/gen/api.py [--include-dir DIR] --dump`` prints the
model as JSON.
"""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import List, NamedTuple, Optional, Tuple, Union

# Scalar base types the bindings know how to map.
BASE_TYPES = ('void', 'char', 'int', 'unsigned', 'uint8_t', 'int32_t', 'uint32_t', 'int64_t',
              'uint64_t', 'double', 'size_t')

# Macros that are attributes of declarations, not constants.
ATTRIBUTE_MACROS = ('SCRM_EXPORT', 'SCRM_DEPRECATED')

# <stdint.h> limits and constant macros the headers may use in constants.
_STDINT_CONSTANTS = {
    'INT8_MIN': -2**7, 'INT8_MAX': 2**7 - 1, 'UINT8_MAX': 2**8 - 1,
    'INT16_MIN': -2**15, 'INT16_MAX': 2**15 - 1, 'UINT16_MAX': 2**16 - 1,
    'INT32_MIN': -2**31, 'INT32_MAX': 2**31 - 1, 'UINT32_MAX': 2**32 - 1,
    'INT64_MIN': -2**63, 'INT64_MAX': 2**63 - 1, 'UINT64_MAX': 2**64 - 1,
}
_STDINT_WIDE = ('INT64_MIN', 'INT64_MAX', 'UINT64_MAX')
_STDINT_FUNCS = ('INT8_C', 'INT16_C', 'INT32_C', 'INT64_C', 'UINT8_C', 'UINT16_C', 'UINT32_C',
                 'UINT64_C')


class ApiError(Exception):
    """The headers hold a construct the model cannot represent."""


class Param(NamedTuple):
    name: str
    ctype: str
    direction: str  # 'in', 'out' or 'inout'


class Field(NamedTuple):
    name: str
    ctype: str
    brief: str


class EnumValue(NamedTuple):
    name: str
    value: int
    brief: str


class CType(NamedTuple):
    base: str
    const: bool               # the base type is const
    pointers: Tuple[bool, ...]  # one entry per '*', True when that pointer is const


@dataclass
class Function:
    name: str
    ret: str
    params: List[Param]
    brief: str
    header: str
    returns: str = ''       # the text of its @return documentation
    fallible: bool = False  # returns int and @return lists SCRM_OK: negative = error code
    ret_len: str = ''       # @scrm_len{expr} in @return: elements of the returned array
    ret_shape: List[str] = field(default_factory=list)  # @scrm_shape{rows, cols} in @return
    lengths: dict = field(default_factory=dict)  # parameter -> @scrm_len{expr} of its @param
    buffers: dict = field(default_factory=dict)  # parameter -> (cap, count) of @scrm_buffer


@dataclass
class Enum:
    name: str
    values: List[EnumValue]
    brief: str
    header: str


@dataclass
class Define:
    name: str
    text: str
    value: Union[int, str]
    ctype: str
    brief: str
    header: str


@dataclass
class Struct:
    name: str
    fields: List[Field]
    brief: str
    header: str
    lengths: dict = field(default_factory=dict)  # field -> @scrm_len{expr}: holds at least expr


@dataclass
class Callback:
    name: str
    ret: str
    params: List[Param]
    brief: str
    header: str


@dataclass
class Handle:
    name: str
    brief: str
    header: str


@dataclass
class Api:
    functions: List[Function] = field(default_factory=list)
    enums: List[Enum] = field(default_factory=list)
    defines: List[Define] = field(default_factory=list)
    structs: List[Struct] = field(default_factory=list)
    callbacks: List[Callback] = field(default_factory=list)
    handles: List[Handle] = field(default_factory=list)
    headers: List[str] = field(default_factory=list)  # relative to include/, sorted

    def function(self, name: str) -> Function:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(name)

    def define(self, name: str) -> Define:
        for d in self.defines:
            if d.name == name:
                return d
        raise KeyError(name)

    def kind_of(self, base: str) -> str:
        """'scalar', 'handle', 'struct', 'callback' or 'enum' for a ctype base."""
        if base in BASE_TYPES:
            return 'scalar'
        for kind, items in (('handle', self.handles), ('struct', self.structs),
                            ('callback', self.callbacks), ('enum', self.enums)):
            if any(x.name == base for x in items):
                return kind
        raise KeyError(base)

    def to_dict(self) -> dict:
        """The model as plain data (named tuples become objects)."""
        def conv(x):
            if hasattr(x, '_asdict'):
                return {k: conv(v) for k, v in x._asdict().items()}
            if isinstance(x, list):
                return [conv(v) for v in x]
            if hasattr(x, '__dataclass_fields__'):
                return {k: conv(getattr(x, k)) for k in x.__dataclass_fields__}
            return x
        return conv(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


# --------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------

_TOKEN_RE = re.compile(r'\s*(?:([A-Za-z_]\w*)|(\*))')


def parse_ctype(text: str) -> CType:
    """Split a canonical (or any simple) C type spelling into a CType."""
    base_words: List[str] = []
    const = False
    pointers: List[bool] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise ApiError(f'cannot parse C type {text!r}')
        pos = m.end()
        word, star = m.group(1), m.group(2)
        if star:
            if not base_words:
                raise ApiError(f'cannot parse C type {text!r}')
            pointers.append(False)
        elif word == 'const':
            if pointers:
                pointers[-1] = True
            else:
                const = True
        elif word in ('struct', 'enum', 'volatile', 'restrict'):
            if word in ('volatile', 'restrict'):
                raise ApiError(f'unsupported qualifier {word!r} in C type {text!r}')
        else:
            if pointers:
                raise ApiError(f'cannot parse C type {text!r}')
            base_words.append(word)
    if not base_words:
        raise ApiError(f'cannot parse C type {text!r}')
    base = ' '.join(base_words)
    if base in ('unsigned int', 'unsigned'):
        base = 'unsigned'
    elif base == 'signed int' or base == 'signed':
        base = 'int'
    elif len(base_words) > 1:
        raise ApiError(f'unsupported base type {base!r} in C type {text!r}')
    return CType(base, const, tuple(pointers))


def format_ctype(t: CType) -> str:
    s = ('const ' if t.const else '') + t.base
    if t.pointers:
        s += ' ' + ''.join('*const ' if c else '*' for c in t.pointers).rstrip()
    return s


def _text(el: Optional[ET.Element]) -> str:
    if el is None:
        return ''
    return re.sub(r'\s+', ' ', ''.join(el.itertext())).strip()


# --------------------------------------------------------------------------
# Constant expressions of object-like macros
# --------------------------------------------------------------------------

_PP_TOKEN_RE = re.compile(r'''\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<chr>'(?:[^'\\]|\\.)+')
  | (?P<num>(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op>\#\#|<<|>>|[-+*/%()~|&^,\#])
)''', re.X)


def _pp_tokens(text: str, where: str) -> List[str]:
    toks = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _PP_TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise ApiError(f'{where}: cannot tokenize macro text {text!r}')
        toks.append(m.group(m.lastgroup))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return toks


def _function_macros(include_dir: str) -> dict:
    """Function-like macros of the headers: name -> (params, body tokens).

    Read from the header text because Doxygen leaves out macros inside
    ``@cond`` sections (SCRM_STR). Only used to expand constant macros."""
    macros = {}
    for root, _dirs, files in os.walk(include_dir):
        for fn in files:
            if not fn.endswith('.h'):
                continue
            with open(os.path.join(root, fn), encoding='utf-8') as f:
                text = f.read().replace('\\\n', ' ')
            for m in re.finditer(r'^[ \t]*#[ \t]*define[ \t]+(\w+)\(([\w\s,]*)\)[ \t]*(.*)$',
                                 text, re.M):
                params = [p.strip() for p in m.group(2).split(',') if p.strip()]
                macros[m.group(1)] = (params, m.group(3).strip())
    return macros


class _Expander:
    def __init__(self, objects: dict, functions: dict):
        self.objects = objects        # name -> replacement text
        self.functions = functions    # name -> (params, body text)

    def expand(self, toks: List[str], where: str, depth: int = 0,
               hide: frozenset = frozenset()) -> List[str]:
        if depth > 50:
            raise ApiError(f'{where}: macro expansion too deep')
        out: List[str] = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if t in hide:
                out.append(t)
                i += 1
            elif t in self.objects:
                out += self.expand(_pp_tokens(self.objects[t], where), where, depth + 1,
                                   hide | {t})
                i += 1
            elif (t in self.functions or t in _STDINT_FUNCS) and i + 1 < len(toks) \
                    and toks[i + 1] == '(':
                args, i = self._args(toks, i + 2, where)
                if t in _STDINT_FUNCS:
                    if len(args) != 1:
                        raise ApiError(f'{where}: {t} takes one argument')
                    out += ['('] + self.expand(args[0], where, depth + 1, hide) + [')']
                    continue
                params, body = self.functions[t]
                if len(args) != len(params) and not (not params and args == [[]]):
                    raise ApiError(f'{where}: macro {t} expects {len(params)} arguments')
                btoks = _pp_tokens(body, where)
                res: List[str] = []
                j = 0
                while j < len(btoks):
                    b = btoks[j]
                    if b == '#' and j + 1 < len(btoks) and btoks[j + 1] in params:
                        raw = ' '.join(args[params.index(btoks[j + 1])])
                        res.append('"' + raw.replace('\\', '\\\\').replace('"', '\\"') + '"')
                        j += 2
                    elif b == '##':
                        raise ApiError(f'{where}: token pasting (##) is not supported')
                    elif b in params:
                        res += self.expand(args[params.index(b)], where, depth + 1, hide)
                        j += 1
                    else:
                        res.append(b)
                        j += 1
                out += self.expand(res, where, depth + 1, hide | {t})
            else:
                out.append(t)
                i += 1
        return out

    @staticmethod
    def _args(toks, i, where):
        args: List[List[str]] = [[]]
        level = 0
        while i < len(toks):
            t = toks[i]
            if t == '(':
                level += 1
            elif t == ')':
                if level == 0:
                    return args, i + 1
                level -= 1
            elif t == ',' and level == 0:
                args.append([])
                i += 1
                continue
            args[-1].append(t)
            i += 1
        raise ApiError(f'{where}: unbalanced parentheses in macro arguments')


def _c_div(a, b):
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _eval_int(node, where):
    if isinstance(node, ast.Expression):
        return _eval_int(node.body, where)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.UnaryOp):
        v = _eval_int(node.operand, where)
        if isinstance(node.op, ast.USub):
            return -v
        if isinstance(node.op, ast.UAdd):
            return v
        if isinstance(node.op, ast.Invert):
            return ~v
    if isinstance(node, ast.BinOp):
        a, b = _eval_int(node.left, where), _eval_int(node.right, where)
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
               ast.FloorDiv: lambda: _c_div(a, b), ast.Mod: lambda: a - _c_div(a, b) * b,
               ast.LShift: lambda: a << b, ast.RShift: lambda: a >> b,
               ast.BitOr: lambda: a | b, ast.BitAnd: lambda: a & b,
               ast.BitXor: lambda: a ^ b}
        for op, fn in ops.items():
            if isinstance(node.op, op):
                return fn()
    raise ApiError(f'{where}: not an integer constant expression')


def _evaluate(name, toks, where):
    """(value, ctype) of an expanded token list: string literals or an integer expression."""
    if toks and all(t.startswith('"') for t in toks):
        return ''.join(ast.literal_eval(t) for t in toks), 'const char *'
    py = []
    for t in toks:
        if t.startswith('"'):
            raise ApiError(f'{where}: mixes strings and numbers')
        if t.startswith("'"):
            v = ast.literal_eval(t)
            if len(v) != 1:
                raise ApiError(f'{where}: multi-character constant {t}')
            py.append(str(ord(v)))
        elif re.match(r'\d', t):
            py.append(str(int(t.rstrip('uUlL'), 0)))
        elif t in _STDINT_CONSTANTS:
            py.append('(' + str(_STDINT_CONSTANTS[t]) + ')')
        elif re.match(r'[A-Za-z_]', t):
            raise ApiError(f'{where}: unknown identifier {t!r} in the value of {name}')
        elif t == '/':
            py.append('//')
        elif t in ('#', ','):
            raise ApiError(f'{where}: unsupported token {t!r} in the value of {name}')
        else:
            py.append(t)
    try:
        tree = ast.parse(' '.join(py), mode='eval')
    except SyntaxError as e:
        raise ApiError(f'{where}: cannot evaluate {" ".join(toks)!r}: {e}') from None
    value = _eval_int(tree, where)
    if -2**31 <= value < 2**31:
        ctype = 'int'
    elif -2**63 <= value < 2**63:
        ctype = 'int64_t'
    elif 0 <= value < 2**64:
        ctype = 'uint64_t'
    else:
        raise ApiError(f'{where}: {name} = {value} does not fit 64 bits')
    return value, ctype


# --------------------------------------------------------------------------
# Length declarations (@scrm_len, @scrm_shape, @scrm_buffer)
# --------------------------------------------------------------------------

_LEN_TOKEN_RE = re.compile(r'\s*(?:(?P<num>\d+)|(?P<id>[A-Za-z_]\w*)|(?P<op>[-+*(),]))')


def parse_len(text: str, where: str):
    """Parse a length expression into a tree of tuples:
    ('num', n) | ('name', id) | ('call', fn, [args]) | (op, left, right)
    with op one of '+', '-', '*'. Usual precedence, left associative."""
    toks = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _LEN_TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise ApiError(f'{where}: cannot parse length {text!r} at {text[pos:]!r}')
        toks.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    i = 0

    def peek():
        return toks[i][1] if i < len(toks) else None

    def take(expected=None):
        nonlocal i
        if i >= len(toks) or (expected is not None and toks[i][1] != expected):
            raise ApiError(f'{where}: length {text!r}: expected {expected or "a term"}')
        i += 1
        return toks[i - 1]

    def atom():
        kind, v = take()
        if kind == 'num':
            return ('num', int(v))
        if kind == 'id':
            if peek() == '(':
                take('(')
                args = []
                if peek() != ')':
                    args.append(expr())
                    while peek() == ',':
                        take(',')
                        args.append(expr())
                take(')')
                return ('call', v, args)
            return ('name', v)
        if v == '(':
            e = expr()
            take(')')
            return e
        raise ApiError(f'{where}: length {text!r}: unexpected {v!r}')

    def term():
        e = atom()
        while peek() == '*':
            take('*')
            e = ('*', e, atom())
        return e

    def expr():
        e = term()
        while peek() in ('+', '-'):
            op = take()[1]
            e = (op, e, term())
        return e

    tree = expr()
    if i != len(toks):
        raise ApiError(f'{where}: length {text!r}: unexpected {toks[i][1]!r}')
    return tree


def len_names(tree) -> List[str]:
    """The plain names (parameters or fields) a length expression reads."""
    if tree[0] == 'num':
        return []
    if tree[0] == 'name':
        return [tree[1]]
    if tree[0] == 'call':
        return [n for a in tree[2] for n in len_names(a)]
    return len_names(tree[1]) + len_names(tree[2])


def len_calls(tree) -> List[Tuple[str, int]]:
    """(function, argument count) of every call in a length expression."""
    if tree[0] in ('num', 'name'):
        return []
    if tree[0] == 'call':
        return [(tree[1], len(tree[2]))] + [c for a in tree[2] for c in len_calls(a)]
    return len_calls(tree[1]) + len_calls(tree[2])


def _declarations(el: Optional[ET.Element]) -> dict:
    """{'Length': [expr], 'Shape': [rows, cols], 'Buffer': [cap, count]} of the
    aliases rendered in @p el: a <bold>Label:</bold> followed by its
    <computeroutput> arguments (docs/Doxyfile.in ALIASES)."""
    found = {}
    if el is None:
        return found
    wanted = {'Length:': 1, 'Shape:': 2, 'Buffer:': 2}
    for parent in el.iter():
        kids = list(parent)
        for j, k in enumerate(kids):
            label = _text(k)
            if k.tag != 'bold' or label not in wanted:
                continue
            args = [_text(c) for c in kids[j + 1:] if c.tag == 'computeroutput']
            found[label[:-1]] = args[:wanted[label]]
    return found


def _aliases(include_dir: str) -> str:
    """The ALIASES setting of docs/Doxyfile.in (one definition for the HTML
    documentation and the generator), as Doxyfile text."""
    del include_dir  # the aliases are the project's, whatever headers are read
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'docs',
                        'Doxyfile.in')
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().split('\n')
    except FileNotFoundError:
        raise ApiError(f'{path}: missing (it defines the @scrm_len ALIASES)') from None
    out = []
    for i, line in enumerate(lines):
        if re.match(r'^ALIASES\s*\+?=', line):
            j = i
            out.append(lines[j])
            while lines[j].rstrip().endswith('\\'):
                j += 1
                out.append(lines[j])
    if not out:
        raise ApiError(f'{path}: no ALIASES (the @scrm_len declarations need them)')
    return '\n'.join(out) + '\n'


# --------------------------------------------------------------------------
# Doxygen
# --------------------------------------------------------------------------

_DOXYFILE = """\
INPUT                  = {include}
FILE_PATTERNS          = *.h
RECURSIVE              = YES
OUTPUT_DIRECTORY       = {out}
OPTIMIZE_OUTPUT_FOR_C  = YES
JAVADOC_AUTOBRIEF      = YES
CASE_SENSE_NAMES       = YES
EXTRACT_ALL            = YES
QUIET                  = YES
WARNINGS               = NO
WARN_IF_UNDOCUMENTED   = NO
ENABLE_PREPROCESSING   = YES
MACRO_EXPANSION        = YES
EXPAND_ONLY_PREDEF     = YES
SEARCH_INCLUDES        = YES
INCLUDE_PATH           = {include}
PREDEFINED             = SCRM_EXPORT= "SCRM_DEPRECATED(msg)="
SKIP_FUNCTION_MACROS   = YES
GENERATE_HTML          = YES
HTML_OUTPUT            = html
SEARCHENGINE           = NO
GENERATE_LATEX         = NO
GENERATE_XML           = YES
XML_OUTPUT             = xml
XML_PROGRAMLISTING     = NO
HAVE_DOT               = NO
"""  # + the ALIASES of docs/Doxyfile.in
# HTML is generated too (into the temporary directory, then discarded):
# doxygen 1.9.4 with XML as its only output misreports parameters.


def run_doxygen(include_dir: str, out_dir: str, doxygen: str = 'doxygen') -> str:
    """Run Doxygen on include_dir, writing into out_dir; return the XML directory."""
    exe = shutil.which(doxygen)
    if not exe:
        raise ApiError(f'{doxygen} not found (the binding generator needs Doxygen)')
    doxyfile = os.path.join(out_dir, 'Doxyfile')
    with open(doxyfile, 'w', encoding='utf-8') as f:
        f.write(_DOXYFILE.format(include=os.path.abspath(include_dir), out=out_dir))
        f.write(_aliases(include_dir))
    res = subprocess.run([exe, doxyfile], cwd=out_dir, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, check=False)
    if res.returncode != 0:
        raise ApiError(f'doxygen failed ({res.returncode}):\n{res.stderr}')
    return os.path.join(out_dir, 'xml')


def _directions(member: ET.Element) -> dict:
    dirs = {}
    for plist in member.iter('parameterlist'):
        if plist.get('kind') != 'param':
            continue
        for pn in plist.iter('parametername'):
            d = pn.get('direction', 'in')
            dirs[_text(pn)] = {'in': 'in', 'out': 'out', 'inout': 'inout'}.get(d, d)
    return dirs


def _param_declarations(member: ET.Element) -> dict:
    """Parameter name -> _declarations() of its @param text."""
    out = {}
    for plist in member.iter('parameterlist'):
        if plist.get('kind') != 'param':
            continue
        for item in plist.findall('parameteritem'):
            d = _declarations(item.find('parameterdescription'))
            for pn in item.iter('parametername'):
                out[_text(pn)] = d
    return out


def _split_params(argsstring: str, where: str) -> List[Tuple[str, str]]:
    """'(uint64_t done, void *payload)' -> [('done', 'uint64_t'), ('payload', 'void *')]."""
    s = argsstring.strip()
    if not (s.startswith('(') and s.endswith(')')):
        raise ApiError(f'{where}: cannot parse parameter list {argsstring!r}')
    s = s[1:-1].strip()
    if s in ('', 'void'):
        return []
    out = []
    for part in s.split(','):
        part = part.strip()
        if '(' in part or '[' in part or part == '...':
            raise ApiError(f'{where}: unsupported parameter {part!r}')
        m = re.match(r'^(.*?)([A-Za-z_]\w*)$', part)
        if not m or not m.group(1).strip():
            raise ApiError(f'{where}: unnamed or unparsable parameter {part!r}')
        out.append((m.group(2), m.group(1).strip()))
    return out


class _Builder:
    def __init__(self, xml_dir: str, include_dir: str):
        self.xml_dir = xml_dir
        self.include_dir = os.path.abspath(include_dir)
        self.api = Api()
        self.raw_types: List[Tuple[str, str]] = []   # (where, ctype text) checked at the end
        self.enum_typedefs: List[str] = []

    def header_of(self, member: ET.Element) -> str:
        loc = member.find('location')
        path = loc.get('file') if loc is not None else ''
        rel = os.path.relpath(os.path.abspath(path), self.include_dir)
        if rel.startswith('..'):
            raise ApiError(f'{member.findtext("name")}: declared outside include/ ({path})')
        return rel.replace(os.sep, '/')

    @staticmethod
    def line_of(member: ET.Element) -> int:
        loc = member.find('location')
        return int(loc.get('line', '0')) if loc is not None else 0

    def ctype(self, text: str, where: str) -> str:
        t = format_ctype(parse_ctype(text))
        self.raw_types.append((where, t))
        return t

    def build(self) -> Api:
        index = ET.parse(os.path.join(self.xml_dir, 'index.xml')).getroot()
        files, structs = [], []
        for comp in index.findall('compound'):
            kind = comp.get('kind')
            if kind == 'file':
                files.append(comp.get('refid'))
            elif kind in ('struct', 'union'):
                structs.append((comp.get('refid'), kind))
            elif kind in ('class', 'namespace', 'interface', 'protocol', 'category',
                          'exception'):
                raise ApiError(f'unexpected {kind} {comp.findtext("name")} in the headers')

        items = []  # (header, line, kind, payload) for a stable order
        struct_defs = {}
        for refid, kind in structs:
            cd = ET.parse(os.path.join(self.xml_dir, refid + '.xml')).getroot().find('compounddef')
            name = cd.findtext('compoundname')
            if kind == 'union':
                raise ApiError(f'union {name}: unions are not supported by the bindings')
            if name.startswith('@') or not re.match(r'^[A-Za-z_]\w*$', name):
                raise ApiError(f'anonymous or nested struct {name!r} is not supported')
            struct_defs[name] = cd

        seen_headers = set()
        typedef_structs = {}
        for refid in files:
            root = ET.parse(os.path.join(self.xml_dir, refid + '.xml')).getroot()
            cd = root.find('compounddef')
            loc = cd.find('location')
            rel = os.path.relpath(os.path.abspath(loc.get('file')), self.include_dir)
            seen_headers.add(rel.replace(os.sep, '/'))
            for member in cd.iter('memberdef'):
                kind = member.get('kind')
                name = member.findtext('name')
                if kind == 'function':
                    items.append((self.header_of(member), self.line_of(member), 'function',
                                  member))
                elif kind == 'enum':
                    items.append((self.header_of(member), self.line_of(member), 'enum', member))
                elif kind == 'define':
                    items.append((self.header_of(member), self.line_of(member), 'define',
                                  member))
                elif kind == 'typedef':
                    items.append((self.header_of(member), self.line_of(member), 'typedef',
                                  member))
                elif kind == 'variable':
                    raise ApiError(f'{name}: global variables are not supported')
                else:
                    raise ApiError(f'{name}: unsupported declaration kind {kind!r}')
        self.api.headers = sorted(seen_headers)

        # Deduplicate (a member can be listed by several file compounds) and order.
        uniq = {}
        for h, line, kind, member in items:
            uniq.setdefault((kind, member.findtext('name')), (h, line, kind, member))
        ordered = sorted(uniq.values(), key=lambda x: (x[0], x[1], x[2]))

        self.fmacros = _function_macros(self.include_dir)
        self.objmacros = {}
        for h, _line, kind, member in ordered:
            if kind == 'define' and not member.findall('param'):
                self.objmacros[member.findtext('name')] = _text(member.find('initializer'))

        for h, _line, kind, member in ordered:
            getattr(self, 'do_' + kind)(member, h, struct_defs, typedef_structs)

        for sname, cd in struct_defs.items():
            if sname not in typedef_structs:
                raise ApiError(f'struct {sname}: every struct must have a typedef of the same name')
        self.check_types()
        self.check_lengths()
        return self.api

    def do_function(self, m, header, *_):
        name = m.findtext('name')
        where = f'{header}: function {name}'
        if m.get('static') == 'yes' or m.get('inline') == 'yes':
            raise ApiError(f'{where}: static or inline functions are not supported')
        ret = self.ctype(_text(m.find('type')), where + ' (return type)')
        dirs = _directions(m)
        pdecl = _param_declarations(m)
        lengths, buffers = {}, {}
        params = []
        pels = m.findall('param')
        if len(pels) == 1 and _text(pels[0].find('type')) == 'void' \
                and pels[0].find('declname') is None:
            pels = []
        for p in pels:
            pname = p.findtext('declname')
            ptype = _text(p.find('type'))
            if ptype == '...':
                raise ApiError(f'{where}: variadic functions are not supported')
            if not pname:
                raise ApiError(f'{where}: a parameter has no name')
            if p.find('array') is not None:
                raise ApiError(f'{where}: array parameter {pname} is not supported')
            d = pdecl.get(pname, {})
            if 'Shape' in d:
                raise ApiError(f'{where}: @scrm_shape is for @return only (parameter {pname})')
            if d.get('Length'):
                lengths[pname] = d['Length'][0]
            if d.get('Buffer'):
                buffers[pname] = tuple(d['Buffer'])
            params.append(Param(pname, self.ctype(ptype, f'{where} parameter {pname}'),
                                dirs.get(pname, 'in')))
        # Cross-check with the argument string and the documented names.
        expected = _split_params(m.findtext('argsstring') or '()', where)
        if [n for n, _ in expected] != [p.name for p in params]:
            raise ApiError(f'{where}: parameters {[p.name for p in params]} do not match '
                           f'the declaration {m.findtext("argsstring")}')
        stray = set(dirs) - {p.name for p in params}
        if stray:
            raise ApiError(f'{where}: documented parameters {sorted(stray)} are not declared')
        returns = ' '.join(_text(ss) for ss in m.iter('simplesect') if ss.get('kind') == 'return')
        fallible = ret == 'int' and re.search(r'\bSCRM_OK\b', returns) is not None
        rdecl = {}
        for ss in m.iter('simplesect'):
            if ss.get('kind') == 'return':
                rdecl.update(_declarations(ss))
        if 'Buffer' in rdecl:
            raise ApiError(f'{where}: @scrm_buffer belongs in an output @param')
        self.api.functions.append(Function(name, ret, params,
                                           _text(m.find('briefdescription')), header,
                                           returns, fallible,
                                           ''.join(rdecl.get('Length', [])),
                                           list(rdecl.get('Shape', [])), lengths, buffers))

    def do_enum(self, m, header, *_):
        name = m.findtext('name')
        where = f'{header}: enum {name}'
        if not name or name.startswith('@'):
            raise ApiError(f'{header}: anonymous enums are not supported')
        values = []
        prev = -1
        for ev in m.findall('enumvalue'):
            vname = ev.findtext('name')
            init = _text(ev.find('initializer'))
            if init:
                text = init[1:].strip() if init.startswith('=') else init
                exp = _Expander(self.objmacros, self.fmacros)
                toks = exp.expand(_pp_tokens(text, where), f'{where} value {vname}')
                known = {v.name: v.value for v in values}
                toks = [str(known[t]) if t in known else t for t in toks]
                value, _ = _evaluate(vname, toks, f'{where} value {vname}')
                if not isinstance(value, int):
                    raise ApiError(f'{where}: value {vname} is not an integer')
            else:
                value = prev + 1
            prev = value
            values.append(EnumValue(vname, value, _text(ev.find('briefdescription'))))
        self.api.enums.append(Enum(name, values, _text(m.find('briefdescription')), header))

    def do_define(self, m, header, *_):
        name = m.findtext('name')
        where = f'{header}: macro {name}'
        if name in ATTRIBUTE_MACROS:
            return
        if m.findall('param'):
            raise ApiError(f'{where}: function-like macros are not supported '
                           '(hide helpers with @cond INTERNAL)')
        text = _text(m.find('initializer'))
        if not text:
            raise ApiError(f'{where}: a macro without a value')
        if text.startswith('{') and name.endswith('_INIT'):
            return  # brace initialiser of an options struct: the bindings use *_options_init()
        exp = _Expander(self.objmacros, self.fmacros)
        toks = exp.expand(_pp_tokens(text, where), where, hide=frozenset({name}))
        value, ctype = _evaluate(name, toks, where)
        if any(t in _STDINT_WIDE for t in _pp_tokens(text, where)) or 'INT64_C' in text:
            ctype = 'int64_t' if ctype == 'int' else ctype
        if 'UINT64_C' in text and isinstance(value, int) and value >= 0:
            ctype = 'uint64_t'
        self.api.defines.append(Define(name, text, value, ctype,
                                       _text(m.find('briefdescription')), header))

    def do_typedef(self, m, header, struct_defs, typedef_structs):
        name = m.findtext('name')
        where = f'{header}: typedef {name}'
        ttext = _text(m.find('type'))
        args = m.findtext('argsstring') or ''
        brief = _text(m.find('briefdescription'))
        if ttext.endswith('(*') or '(*' in ttext:
            ret = self.ctype(ttext[:ttext.index('(')], where + ' (return type)')
            if not args.startswith(')'):
                raise ApiError(f'{where}: cannot parse function pointer {ttext}{args}')
            params = [Param(pn, self.ctype(pt, f'{where} parameter {pn}'), 'in')
                      for pn, pt in _split_params(args[1:], where)]
            self.api.callbacks.append(Callback(name, ret, params, brief, header))
            return
        if args:
            raise ApiError(f'{where}: unsupported typedef {ttext} {name}{args}')
        m2 = re.match(r'^(struct|enum|union)\s+(\w+)$', ttext)
        if not m2:
            raise ApiError(f'{where}: unsupported typedef of {ttext!r}')
        kw, tag = m2.groups()
        if tag != name:
            raise ApiError(f'{where}: typedef name must equal its tag ({kw} {tag})')
        if kw == 'union':
            raise ApiError(f'{where}: unions are not supported')
        if kw == 'enum':
            self.enum_typedefs.append(name)
            return
        typedef_structs[name] = True
        if name not in struct_defs:
            self.api.handles.append(Handle(name, brief, header))
            return
        cd = struct_defs[name]
        fields = []
        flengths = {}
        for var in cd.iter('memberdef'):
            if var.get('kind') != 'variable':
                raise ApiError(f'{where}: unsupported struct member kind {var.get("kind")}')
            fname = var.findtext('name')
            fwhere = f'{where} field {fname}'
            if (var.findtext('argsstring') or '').strip():
                raise ApiError(f'{fwhere}: arrays, bit-fields and function pointers '
                               'declared inline are not supported')
            if var.findtext('bitfield'):
                raise ApiError(f'{fwhere}: bit-fields are not supported')
            fd = _declarations(var.find('briefdescription'))
            fd.update(_declarations(var.find('detaileddescription')))
            if set(fd) - {'Length'}:
                raise ApiError(f'{fwhere}: only @scrm_len applies to a field')
            if fd.get('Length'):
                flengths[fname] = fd['Length'][0]
            fields.append((self.line_of(var), Field(fname, self.ctype(_text(var.find('type')),
                                                                      fwhere),
                                                    _text(var.find('briefdescription')))))
        fields.sort(key=lambda x: x[0])
        self.api.structs.append(Struct(name, [f for _, f in fields], brief, header, flengths))

    def check_len(self, text, names, where):
        """Parse a length declaration and check what it refers to."""
        tree = parse_len(text, where)
        for n in len_names(tree):
            if n not in names:
                raise ApiError(f'{where}: length {text!r} reads {n!r}, which is not one of '
                               f'{sorted(names)}')
        for fn, argc in len_calls(tree):
            try:
                f = self.api.function(fn)
            except KeyError:
                raise ApiError(f'{where}: length {text!r} calls {fn}, not a function of the '
                               'API') from None
            if len(f.params) != argc:
                raise ApiError(f'{where}: length {text!r}: {fn} takes {len(f.params)} '
                               'arguments')
        return tree

    def check_lengths(self):
        for f in self.api.functions:
            names = {p.name for p in f.params}
            where = f'{f.header}: function {f.name}'
            if f.ret_shape and f.ret_len:
                raise ApiError(f'{where}: give @scrm_len or @scrm_shape, not both')
            for e in ([f.ret_len] if f.ret_len else []) + f.ret_shape:
                self.check_len(e, names, where + ' (@return)')
            for pname, e in f.lengths.items():
                self.check_len(e, names, f'{where} parameter {pname}')
            for pname, b in f.buffers.items():
                if len(b) != 2 or any(x not in names for x in b):
                    raise ApiError(f'{where} parameter {pname}: @scrm_buffer{{cap, count}} '
                                   'must name two parameters')
        for s in self.api.structs:
            names = {x.name for x in s.fields}
            for fname, e in s.lengths.items():
                self.check_len(e, names, f'{s.header}: struct {s.name} field {fname}')

    def check_types(self):
        known = set(BASE_TYPES)
        known |= {h.name for h in self.api.handles}
        known |= {s.name for s in self.api.structs}
        known |= {c.name for c in self.api.callbacks}
        known |= {e.name for e in self.api.enums}
        enum_names = {e.name for e in self.api.enums}
        for t in self.enum_typedefs:
            if t not in enum_names:
                raise ApiError(f'typedef enum {t}: the enum is not defined')
        for where, t in self.raw_types:
            base = parse_ctype(t).base
            if base not in known:
                raise ApiError(f'{where}: unknown type {base!r} (in {t!r}); add it to '
                               'BASE_TYPES and to every generator')


def load_api(include_dir: str, doxygen: str = 'doxygen') -> Api:
    """Run Doxygen on include_dir and build the model (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix='shopcrm-api-') as tmp:
        xml_dir = run_doxygen(include_dir, tmp, doxygen)
        return _Builder(xml_dir, include_dir).build()


def load_api_from_xml(xml_dir: str, include_dir: str) -> Api:
    """Build the model from an existing Doxygen XML directory."""
    return _Builder(xml_dir, include_dir).build()


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--include-dir', default=os.path.join(here, '..', '..', 'include'))
    ap.add_argument('--dump', action='store_true', help='print the model as JSON')
    args = ap.parse_args(argv)
    try:
        api = load_api(args.include_dir)
    except ApiError as e:
        print(f'api.py: {e}', file=sys.stderr)
        return 1
    if args.dump:
        print(api.to_json())
    else:
        print(f'{len(api.functions)} functions, {len(api.enums)} enums, '
              f'{len(api.defines)} defines, {len(api.structs)} structs, '
              f'{len(api.callbacks)} callbacks, {len(api.handles)} handles')
    return 0


if __name__ == '__main__':
    sys.exit(main())
