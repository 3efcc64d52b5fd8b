package message

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"io"
	"testing"
)

// fuzzSections are resolved for every input; most name no part.
var fuzzSections = []string{"", "HEADER", "TEXT", "1", "1.MIME", "2", "1.1", "1.2.3", "2.HEADER", "2.TEXT",
	"1.HEADER.FIELDS (Subject From)", "HEADER.FIELDS.NOT (To)", "3.1.MIME"}

func checkSummary(t *testing.T, s *Summary, raw []byte) {
	t.Helper()
	var walk func(p *Part, depth int)
	walk = func(p *Part, depth int) {
		if depth > maxDecodeDepth {
			t.Fatalf("depth %d", depth)
		}
		if p.HeaderOffset < 0 || p.HeaderLen < 0 || p.BodyLen < 0 || p.Lines < 0 || p.Lines > p.BodyLen ||
			p.BodyOffset < p.HeaderOffset+p.HeaderLen || p.BodyOffset+p.BodyLen > s.Size {
			t.Fatalf("bad part ranges %+v (size %d)", p, s.Size)
		}
		if p.IsMessage() != (p.Embedded != nil) {
			t.Fatalf("message/rfc822 part and embedded message disagree: %+v", p)
		}
		for _, c := range p.Parts {
			if c.HeaderOffset < p.BodyOffset || c.BodyOffset+c.BodyLen > p.BodyOffset+p.BodyLen {
				t.Fatalf("child outside its parent")
			}
			walk(c, depth+1)
		}
		if p.Embedded != nil {
			walk(p.Embedded, depth+1)
		}
	}
	walk(s.Root, 0)
	for _, spec := range fuzzSections {
		ref, err := s.Section(spec)
		if err != nil {
			continue
		}
		if raw != nil {
			if _, err := ref.Read(bytes.NewReader(raw)); err != nil {
				t.Fatalf("BODY[%s]: %v", spec, err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Subject: x\r\n\r\nbody\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := Parse(bytes.NewReader(raw), Options{MaxDepth: 20, MaxParts: 200})
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha1.Sum(raw); s.Size != int64(len(raw)) || s.GUID != hex.EncodeToString(sum[:]) {
			t.Fatalf("size %d guid %s", s.Size, s.GUID)
		}
		checkSummary(t, s, raw)
		env, bs, body := s.Envelope(), s.BodyStructure(true), s.BodyStructure(false)
		data, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(env, s2.Envelope()) || !bytes.Equal(bs, s2.BodyStructure(true)) || !bytes.Equal(body, s2.BodyStructure(false)) {
			t.Fatal("cache round trip changed the output")
		}
		for _, p := range s.LeafParts() {
			r, err := DecodedText(bytes.NewReader(raw), p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range []string{"subject", "from", "x"} {
			s.HeaderValues(h)
		}
		BaseSubject(string(raw))
		ParseDate(string(raw))
	})
}

func FuzzUnmarshal(f *testing.F) {
	f.Add([]byte{cacheVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Unmarshal(data)
		if err != nil {
			return
		}
		checkSummary(t, s, nil)
		env, bs := s.Envelope(), s.BodyStructure(true)
		s.BodyStructure(false)
		s.LeafParts()
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := Unmarshal(again)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(env, s2.Envelope()) || !bytes.Equal(bs, s2.BodyStructure(true)) {
			t.Fatal("re-encoding changed the output")
		}
	})
}
