package imapserver

func cmdStore(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdUIDStore(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}
