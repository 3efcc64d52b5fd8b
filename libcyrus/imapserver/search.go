package imapserver

func cmdSearch(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdUIDSearch(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}
