package main

import (
	"encoding/base64"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Words that the search workloads look for: every tenth message has
// searchSubject in its Subject and every seventh searchBody in its text.
const (
	searchSubject = "Zanzibar"
	searchBody    = "quokka"
)

var filler = strings.Fields(`the quarterly report shows revenue growth across
all regions while operating costs remained stable please review the attached
figures before the meeting on thursday and send any comments to the finance
team we expect the integration work to finish next month pending approval of
the budget for infrastructure and staffing in the new office`)

// msgDate is message i's Date, one minute apart.
func msgDate(i int) time.Time {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
}

// headers are the top-level header fields of message i; run keeps the
// Message-IDs of two runs apart (duplicate suppression would drop them).
func headers(i int, run, subject string) string {
	return "From: Sender " + strconv.Itoa(i%50) + " <sender" + strconv.Itoa(i%50) + "@example.com>\r\n" +
		"To: Bench <bench@example.com>\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: " + msgDate(i).Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <bench." + run + "." + strconv.Itoa(i) + "@example.com>\r\n" +
		"MIME-Version: 1.0\r\n"
}

// text is about n bytes of CRLF-terminated prose.
func text(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		for range 12 {
			b.WriteString(filler[rng.IntN(len(filler))])
			b.WriteByte(' ')
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

// base64Lines encodes data as MIME base64, 76 characters a line.
func base64Lines(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return b.String()
}

// message builds message i as mail clients send it: 4 to 20 KB,
// multipart/alternative (text and HTML), inside multipart/mixed with a
// PDF-like base64 attachment for every fifth message. Deterministic in i.
func message(i int, run string) []byte {
	rng := rand.New(rand.NewPCG(uint64(i), 42))
	size := 4096 + rng.IntN(16*1024)
	subject := "Status update " + strconv.Itoa(i)
	if i%10 == 0 {
		subject += " " + searchSubject
	}
	attach := i%5 == 0
	textSize := size / 2
	if attach {
		textSize = size / 4
	}
	body := text(rng, textSize)
	if i%7 == 0 {
		body += "Also, the " + searchBody + " arrived.\r\n"
	}
	html := "<html><body><p>" + strings.ReplaceAll(body, "\r\n", "</p>\r\n<p>") + "</p></body></html>\r\n"
	alt := "=_alt_" + strconv.Itoa(i)
	alternative := "Content-Type: multipart/alternative; boundary=\"" + alt + "\"\r\n\r\n" +
		"--" + alt + "\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body +
		"--" + alt + "\r\n" +
		"Content-Type: text/html; charset=us-ascii\r\n\r\n" + html +
		"--" + alt + "--\r\n"
	if !attach {
		return []byte(headers(i, run, subject) + alternative)
	}
	data := make([]byte, size/4)
	for j := range data {
		data[j] = byte(rng.Uint32())
	}
	mixed := "=_mixed_" + strconv.Itoa(i)
	return []byte(headers(i, run, subject) +
		"Content-Type: multipart/mixed; boundary=\"" + mixed + "\"\r\n\r\n" +
		"--" + mixed + "\r\n" + alternative +
		"--" + mixed + "\r\n" +
		"Content-Type: application/pdf; name=\"report-" + strconv.Itoa(i) + ".pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"report-" + strconv.Itoa(i) + ".pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64Lines(data) +
		"--" + mixed + "--\r\n")
}

// largeMessage is a message of about size bytes: a short text part and
// a base64 attachment making up the rest.
func largeMessage(i int, run string, size int) []byte {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	data := make([]byte, size*3/4)
	for j := range data {
		data[j] = byte(rng.Uint32())
	}
	b := "=_large_" + strconv.Itoa(i)
	return []byte(headers(i, run, "Large attachment "+strconv.Itoa(i)) +
		"Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n" +
		"--" + b + "\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + text(rng, 512) +
		"--" + b + "\r\n" +
		"Content-Type: application/octet-stream; name=\"data.bin\"\r\n" +
		"Content-Disposition: attachment; filename=\"data.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64Lines(data) +
		"--" + b + "--\r\n")
}

// smallMessage is the short plain message of the million-message
// mailbox, where the count matters and not the size.
func smallMessage(i int, run string) []byte {
	return []byte(headers(i, run, "Note "+strconv.Itoa(i)) +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n" +
		"Short note number " + strconv.Itoa(i) + ".\r\n")
}
