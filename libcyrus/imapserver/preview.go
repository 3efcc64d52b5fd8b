package imapserver

// The PREVIEW of a message (RFC 8970 3): the start of its first text
// part, as plain text of at most 256 characters. It is computed on
// demand from the cached structure and the part's bytes (at most
// previewReadMax decoded bytes are read), not stored at delivery: reading
// one part's first kilobytes costs about what a BODY.PEEK[1]<0.4096> does.

import (
	"html"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cyrusgo/cyrusgo/libcyrus/message"
)

// previewMax is RFC 8970 3's limit, in characters.
const previewMax = 256

// previewReadMax bounds the decoded bytes read for a preview: enough for
// 256 characters after markup and runs of white space are dropped.
const previewReadMax = 16 << 10

// messagePreview returns the preview of a message: "" when it has no
// text part (RFC 8970 3: an empty string is a valid preview).
func messagePreview(sum *message.Summary, ra io.ReaderAt) (string, error) {
	p := previewPart(sum.Root)
	if p == nil {
		return "", nil
	}
	rd, err := message.DecodedText(ra, p)
	if err != nil {
		return "", err
	}
	buf, err := io.ReadAll(io.LimitReader(rd, previewReadMax))
	if err != nil {
		return "", err
	}
	text := string(buf)
	if p.Subtype == "HTML" {
		text = htmlText(text)
	}
	return previewText(text), nil
}

// previewPart is the first text/plain part, else the first text/html
// one, that is not an attachment, of the message itself: parts of an
// attached message/rfc822 are not its text.
func previewPart(root *message.Part) *message.Part {
	var plain, htm *message.Part
	var walk func(p *message.Part)
	walk = func(p *message.Part) {
		if p == nil || plain != nil {
			return
		}
		if p.IsMultipart() {
			for _, c := range p.Parts {
				walk(c)
			}
			return
		}
		if p.Type != "TEXT" || p.Disposition == "ATTACHMENT" {
			return
		}
		switch p.Subtype {
		case "PLAIN":
			plain = p
		case "HTML":
			if htm == nil {
				htm = p
			}
		}
	}
	// A single-part message with no Content-Type is text/plain (RFC
	// 2045 5.2); the parser reports it so.
	walk(root)
	if plain != nil {
		return plain
	}
	return htm
}

// htmlText drops the markup of an HTML body: tags, comments and the
// content of style and script elements; entities are decoded.
func htmlText(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s = s[i:]
		lower := strings.ToLower(s[:min(len(s), 8)])
		var end string
		switch {
		case strings.HasPrefix(lower, "<!--"):
			end = "-->"
		case strings.HasPrefix(lower, "<style"):
			end = "</style>"
		case strings.HasPrefix(lower, "<script"):
			end = "</script>"
		default:
			end = ">"
		}
		j := strings.Index(strings.ToLower(s), end)
		if j < 0 {
			break
		}
		s = s[j+len(end):]
	}
	return html.UnescapeString(b.String())
}

// previewText makes the preview of decoded text: invalid UTF-8 and
// control characters dropped, every run of white space made one space,
// trimmed, at most previewMax characters.
func previewText(s string) string {
	var b strings.Builder
	n := 0
	space := false
	for _, c := range s {
		if n >= previewMax {
			break
		}
		switch {
		case c == utf8.RuneError:
			continue
		case unicode.IsSpace(c):
			space = b.Len() > 0
			continue
		case unicode.IsControl(c):
			continue
		}
		if space {
			if n+1 >= previewMax {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(c)
		n++
	}
	return b.String()
}
