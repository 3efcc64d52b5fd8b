package msgsort

import "time"

// SentDate is the sent date of RFC 5256 2.2: the Date header's date and
// time normalised to UTC, or the internal date when the header is missing
// or could not be parsed (date is the zero time then). The caller's
// parser already treats an invalid zone as UTC and a missing time as
// 00:00:00, as 2.2 asks.
func SentDate(date, internal time.Time) time.Time {
	if date.IsZero() {
		return internal.UTC()
	}
	return date.UTC()
}
