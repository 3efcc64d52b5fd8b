module github.com/cyrusgo/cyrusgo

go 1.26.0

require (
	github.com/emersion/go-imap/v2 v2.0.0-beta.8
	github.com/emersion/go-message v0.18.2
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/spf13/pflag v1.1.0
	github.com/syndtr/goleveldb v1.0.0
	github.com/xdg-go/scram v1.4.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/golang/snappy v0.0.0-20180518054509-2e65f85255db // indirect
	github.com/xdg-go/stringprep v1.0.4
	golang.org/x/term v0.48.0
	golang.org/x/text v0.14.0
)
