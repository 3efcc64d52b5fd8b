package imapserver

func cmdAppend(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }
