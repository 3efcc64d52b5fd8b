package sieve

import "fmt"

// parser builds the syntax tree of RFC 5228 section 8.2:
//
//	commands  = *command
//	command   = identifier arguments (";" / block)
//	arguments = *argument [ test / test-list ]
//	argument  = string-list / number / tag
//	test      = identifier arguments
//	test-list = "(" test *("," test) ")"
//	block     = "{" commands "}"
//
// It stops at the first error. Nesting (blocks, tests in tests) is
// bounded by maxDepth so that a hostile script cannot exhaust the stack.
type parser struct {
	lx       lexer
	tok      token
	peeked   bool
	depth    int
	maxDepth int
	nodes    int
	maxNodes int
	strBytes int
	maxStr   int
}

func (p *parser) peek() token {
	if !p.peeked {
		p.tok = p.lx.next()
		p.peeked = true
	}
	return p.tok
}

func (p *parser) take() token {
	t := p.peek()
	p.peeked = false
	return t
}

func (p *parser) fail(line int, format string, args ...any) {
	panic(&Error{Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) enter(line int) {
	p.depth++
	if p.depth > p.maxDepth {
		p.fail(line, "nesting too deep (more than %d levels)", p.maxDepth)
	}
}

func (p *parser) leave() { p.depth-- }

func (p *parser) count(line int) {
	p.nodes++
	if p.nodes > p.maxNodes {
		p.fail(line, "script too complex (more than %d commands and tests)", p.maxNodes)
	}
}

// parse parses a whole script; the error is an *Error.
func parse(src string, lim Limits) (cmds []*Node, err error) {
	p := &parser{
		lx:       lexer{src: src, line: 1},
		maxDepth: lim.MaxNesting,
		maxNodes: lim.MaxNodes,
		maxStr:   lim.MaxScriptSize + 1024,
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			cmds, err = nil, e
		}
	}()
	cmds = p.commands(false)
	if t := p.take(); t.kind != tEOF {
		p.fail(t.line, syntaxErr)
	}
	return cmds, nil
}

func (p *parser) commands(inBlock bool) []*Node {
	var out []*Node
	for {
		t := p.peek()
		switch {
		case t.kind == tEOF:
			return out
		case t.kind == tRBrace && inBlock:
			return out
		case t.kind != tIdent:
			p.fail(t.line, syntaxErr)
		}
		out = append(out, p.command())
	}
}

func (p *parser) command() *Node {
	t := p.take()
	p.count(t.line)
	n := &Node{Name: t.text, Line: t.line}
	p.arguments(n)
	end := p.take()
	switch end.kind {
	case tSemicolon:
	case tLBrace:
		p.enter(end.line)
		n.HasBlock = true
		n.Block = p.commands(true)
		if c := p.take(); c.kind != tRBrace {
			p.fail(c.line, syntaxErr)
		}
		p.leave()
	default:
		p.fail(end.line, syntaxErr)
	}
	return n
}

// arguments reads *argument [test / test-list] into n.
func (p *parser) arguments(n *Node) {
	for {
		t := p.peek()
		switch t.kind {
		case tString:
			p.take()
			p.addStr(t)
			n.Args = append(n.Args, Arg{Kind: ArgStrings, Strs: []string{t.text}, Line: t.line})
		case tLBracket:
			n.Args = append(n.Args, p.stringList())
		case tNumber:
			p.take()
			n.Args = append(n.Args, Arg{Kind: ArgNumber, Num: t.num, Line: t.line})
		case tTag:
			p.take()
			n.Args = append(n.Args, Arg{Kind: ArgTag, Tag: t.text, Line: t.line})
		case tIdent:
			p.enter(t.line)
			n.Tests = []*Node{p.test()}
			p.leave()
			return
		case tLParen:
			p.take()
			p.enter(t.line)
			for {
				n.Tests = append(n.Tests, p.test())
				c := p.take()
				if c.kind == tRParen {
					break
				}
				if c.kind != tComma {
					p.fail(c.line, syntaxErr)
				}
			}
			p.leave()
			return
		default:
			return
		}
	}
}

func (p *parser) test() *Node {
	t := p.take()
	if t.kind != tIdent {
		p.fail(t.line, syntaxErr)
	}
	p.count(t.line)
	n := &Node{Name: t.text, Line: t.line}
	p.arguments(n)
	return n
}

func (p *parser) stringList() Arg {
	open := p.take()
	a := Arg{Kind: ArgStrings, List: true, Line: open.line}
	for {
		t := p.take()
		if t.kind != tString {
			p.fail(t.line, syntaxErr)
		}
		p.addStr(t)
		a.Strs = append(a.Strs, t.text)
		c := p.take()
		if c.kind == tRBracket {
			return a
		}
		if c.kind != tComma {
			p.fail(c.line, syntaxErr)
		}
	}
}

// addStr bounds the total string bytes and the number of strings, which
// the script size bounds already; this guards callers that raise
// MaxScriptSize carelessly.
func (p *parser) addStr(t token) {
	p.strBytes += len(t.text) + 16
	if p.strBytes > p.maxStr*2 {
		p.fail(t.line, "script too large")
	}
}
