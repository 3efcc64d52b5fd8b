package imapserver

func cmdFetch(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdUIDFetch(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}
