#!/usr/bin/env python3
"""Regenerates syntax_cases.txt: policy texts with cedar-wasm's verdict.

Cases come from fixed-seed generators (expressions, scopes, lexical corner
cases) and, when the corpus is present, from small mutations of corpus
policies. The verdict ("ok N" or "err") is asked of @cedar-policy/cedar-wasm
through diff_oracle.js, so the checked-in file records the reference
implementation's answer and parser_test replays it without Node.

Usage (from the repository root):
  python3 tests/cedar/tools/make_syntax_cases.py [corpus-dir-with-unpacked-cedar-files]
"""
import os
import random
import subprocess
import sys
import tempfile

SEP = '\n----\n'
rng = random.Random(20261121)

ATOMS = ['principal', 'action', 'resource', 'context', '1', '0', '-1', '-9223372036854775808',
         '9223372036854775807', '9223372036854775808', '"a"', '"\\*"', '"\\u{41}"', '"\\x41"',
         '"\\q"', 'true', 'false', 'User::"a"', 'A::B::"c"', '?principal', 'foo', 'if', 'in',
         'ip("1.2.3.4")', 'decimal("1.0")', '[]', '{}', 'has', 'then', '__cedar',
         'context.x', 'principal["a"]']


def expr(d):
    if d <= 0 or rng.random() < 0.2:
        return rng.choice(ATOMS)
    r = rng.random()
    ops = ['||', '&&', '==', '!=', '<', '<=', '>', '>=', 'in', '+', '-', '*', '/', '%', '=']
    if r < 0.35:
        return expr(d - 1) + ' ' + rng.choice(ops) + ' ' + expr(d - 1)
    if r < 0.45:
        return rng.choice(['!', '-', '!!', '--', '!!!!!', '-----', '!-']) + expr(d - 1)
    if r < 0.52:
        return '(' + expr(d - 1) + ')'
    if r < 0.58:
        return 'if ' + expr(d - 1) + ' then ' + expr(d - 1) + ' else ' + expr(d - 1)
    if r < 0.63:
        return expr(d - 1) + ' has ' + rng.choice(
            ['a', 'a.b', '"a b"', 'if', 'principal', 'a.b.c', '"a".b', 'true', '1'])
    if r < 0.67:
        return expr(d - 1) + ' like ' + rng.choice(['"a*"', '"\\*"', 'x', '"a\\u{2a}"'])
    if r < 0.72:
        return expr(d - 1) + ' is ' + rng.choice(
            ['User', 'A::B', 'A::"x"', 'principal', 'User in ' + expr(d - 1)])
    if r < 0.80:
        return expr(d - 1) + '.' + rng.choice(
            ['a', 'contains(' + expr(d - 1) + ')', 'isEmpty()', 'containsAll(1,2)',
             'lessThan()', 'foo()', 'ip()', 'then', 'principal', 'hasTag("x")', 'getTag()'])
    if r < 0.85:
        return '[' + ', '.join(expr(d - 1) for _ in range(rng.randint(0, 3))) + \
            rng.choice(['', ',']) + ']'
    if r < 0.90:
        return '{' + ', '.join(rng.choice(['a', '"b"', 'if', 'principal', '1', 'true', 'a']) +
                               ': ' + expr(d - 1) for _ in range(rng.randint(0, 3))) + '}'
    if r < 0.95:
        return rng.choice(['ip', 'decimal', 'contains', 'foo', 'A::ip', 'datetime']) + '(' + \
            ', '.join(expr(d - 1) for _ in range(rng.randint(0, 2))) + ')'
    return expr(d - 1) + '[' + rng.choice(['"a"', '1', 'principal']) + ']'


ENTS = ['User::"a"', 'A::B::"b"', '?principal', '?resource', '[User::"a"]', '[]', 'Action::"a"',
        'NS::Action::"x"', '[Action::"a", NS::Action::"b"]', '[Action::"a",]', 'principal',
        '(User::"a")', 'User', '__cedar::X::"a"', 'if::"a"', 'A::if::"x"', 'permit::"x"',
        'A :: "x"', 'User::"a" && true']


def scope(var):
    r = rng.random()
    if r < 0.3:
        return var
    if r < 0.5:
        return var + ' == ' + rng.choice(ENTS)
    if r < 0.7:
        return var + ' in ' + rng.choice(ENTS)
    if r < 0.8:
        return var + ' is ' + rng.choice(['User', 'A::B', 'User::"a"', '?principal'])
    if r < 0.9:
        return var + ' is User in ' + rng.choice(ENTS)
    return var + rng.choice([' < User::"a"', ': User', ' = User::"a"', ' is User == User::"a"'])


ANNS = ['@id("x")', '@a', '@a()', '@if("x")', '@__cedar("y")', '@a("\\n")', '@b(1)', '@ c("x")']
WS = [' ', '\n', '\t', '\r\n', '\u00a0', '\u2028', ' // c\n', '\r']


def policy():
    vars_ = ['principal', 'action', 'resource']
    if rng.random() < 0.1:
        vars_ = rng.sample(vars_ + ['context'], rng.randint(0, 4))
    w = rng.choice(WS[:4]) if rng.random() < 0.7 else rng.choice(WS)
    p = w.join(rng.sample(ANNS, rng.randint(0, 2)))
    p += w + rng.choice(['permit', 'forbid', 'permit', 'allow']) + w + '(' + \
        (',' + w).join(scope(v) for v in vars_) + rng.choice(['', ',', ',,']) + ')'
    p += ''.join(w + rng.choice(['when { true }', 'unless { false }', 'when {}',
                                 'when { principal == ?principal }', 'foo { true }'])
                 for _ in range(rng.randint(0, 2)))
    return p + rng.choice([';', ';', '', ';;'])


def mutate(text):
    pieces = ['(', ')', '[', ']', '{', '}', ',', ';', '.', '::', '"', '-', '!', '*', '==', 'in',
              'is', 'has', 'if', '?principal', '@a', '\\', '9223372036854775808', '&&', 'x']
    for _ in range(rng.randint(1, 2)):
        i = rng.randint(0, max(0, len(text) - 1))
        op = rng.randint(0, 2)
        if op == 0:
            text = text[:i] + text[i + 1:]
        elif op == 1:
            text = text[:i] + rng.choice(pieces) + text[i:]
        else:
            j = rng.randint(0, max(0, len(text) - 1))
            text = text[:i] + text[j:j + rng.randint(1, 8)] + text[i:]
    return text


def main():
    cases = []
    # Expressions: keep every valid one and a sample of invalid ones.
    for _ in range(8000):
        cases.append('permit(principal, action, resource) when { ' + expr(4) + ' };')
    for _ in range(8000):
        cases.append(policy())
    if len(sys.argv) > 1:
        files = sorted(os.path.join(sys.argv[1], f) for f in os.listdir(sys.argv[1])
                       if f.endswith('.cedar'))
        for f in rng.sample(files, min(300, len(files))):
            with open(f, encoding='utf-8') as fh:
                cases.append(mutate(fh.read()))
    cases = list(dict.fromkeys(c for c in cases if SEP not in c and '\n====' not in c and not c.startswith('====')))
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False, encoding='utf-8') as tmp:
        tmp.write(SEP.join(cases))
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run(['node', os.path.join(here, 'diff_oracle.js'), tmp.name],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    os.unlink(tmp.name)
    assert len(out) == len(cases)
    valid = [(c, v) for c, v in zip(cases, out) if v.startswith('ok')]
    invalid = [(c, v) for c, v in zip(cases, out) if not v.startswith('ok')]
    keep = valid + rng.sample(invalid, min(len(invalid), 2 * len(valid)))
    keep.sort(key=lambda cv: cases.index(cv[0]))
    with open(os.path.join(here, 'syntax_cases.txt'), 'w', encoding='utf-8') as fh:
        fh.write('# Generated by make_syntax_cases.py: policy texts and cedar-wasm 4.13 verdicts.\n')
        fh.write('# Each case is a line "==== ok N" or "==== err" followed by the text.\n')
        for text, verdict in keep:
            fh.write('==== ' + ('ok ' + verdict.split()[1] if verdict.startswith('ok') else 'err') +
                     '\n' + text + '\n')
    print(f'{len(valid)} valid, {len(keep) - len(valid)} invalid cases written')


if __name__ == '__main__':
    main()
