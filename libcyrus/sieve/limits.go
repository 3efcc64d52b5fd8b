package sieve

import "time"

// Limits bound what a script may cost, at compile time and at run time,
// so that a hostile script gets an error rather than unbounded CPU or
// memory (RFC 5228 section 10: "implementations ... may wish to impose
// limits"). Zero fields take the defaults of DefaultLimits.
type Limits struct {
	// MaxScriptSize is the largest script source, in bytes
	// (sieve_maxscriptsize).
	MaxScriptSize int
	// MaxNesting bounds blocks and tests within tests.
	MaxNesting int
	// MaxNodes bounds the commands and tests of one script.
	MaxNodes int
	// MaxSteps bounds the work of one run: each command and test
	// evaluated counts one, and matching counts one per character
	// examined. Past it, Run fails with ErrStepLimit.
	MaxSteps int64
	// MaxActions bounds the actions one run may take.
	MaxActions int
	// MaxRedirects bounds redirect actions (RFC 5228 section 10).
	MaxRedirects int
	// MaxIncludeDepth bounds nested includes, the top script counting
	// as one (RFC 6609 3.1 asks for at least three).
	MaxIncludeDepth int
	// MaxIncludes bounds the scripts included in one run.
	MaxIncludes int
	// MaxVariables bounds the variables of one script, and MaxVariableSize
	// the length of one value (RFC 5229 section 6: longer values are
	// truncated, at a character boundary).
	MaxVariables    int
	MaxVariableSize int
	// MaxRegex bounds the length of a :regex pattern; RE2 (Go's regexp)
	// matches in linear time, so the pattern size is what bounds memory.
	MaxRegex int
	// MaxBodyBytes bounds the body text one body or extracttext test
	// looks at; text past it is not examined.
	MaxBodyBytes int64
	// MaxParts bounds the MIME parts foreverypart visits and the body
	// test examines.
	MaxParts int
	// MaxHeaderFields bounds the header fields editheader may leave.
	MaxHeaderFields int
}

// DefaultLimits are generous for real scripts and small enough that one
// delivery cannot be held up for more than a fraction of a second.
func DefaultLimits() Limits {
	return Limits{
		MaxScriptSize:   32 << 10,
		MaxNesting:      64,
		MaxNodes:        20000,
		MaxSteps:        50_000_000,
		MaxActions:      256,
		MaxRedirects:    10,
		MaxIncludeDepth: 5,
		MaxIncludes:     32,
		MaxVariables:    1024,
		MaxVariableSize: 32 << 10,
		MaxRegex:        4096,
		MaxBodyBytes:    4 << 20,
		MaxParts:        500,
		MaxHeaderFields: 1000,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.MaxScriptSize, d.MaxScriptSize)
	set(&l.MaxNesting, d.MaxNesting)
	set(&l.MaxNodes, d.MaxNodes)
	set(&l.MaxActions, d.MaxActions)
	set(&l.MaxRedirects, d.MaxRedirects)
	set(&l.MaxIncludeDepth, d.MaxIncludeDepth)
	set(&l.MaxIncludes, d.MaxIncludes)
	set(&l.MaxVariables, d.MaxVariables)
	set(&l.MaxVariableSize, d.MaxVariableSize)
	set(&l.MaxRegex, d.MaxRegex)
	set(&l.MaxParts, d.MaxParts)
	set(&l.MaxHeaderFields, d.MaxHeaderFields)
	if l.MaxSteps <= 0 {
		l.MaxSteps = d.MaxSteps
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	return l
}

// Vacation response period bounds, as Cyrus's defaults
// (sieve_vacation_min_response, sieve_vacation_max_response), and the
// default expiry of duplicate tracking (sieve_duplicate_max_expiration).
const (
	DefaultVacationMin    = 3 * 24 * time.Hour
	DefaultVacationMax    = 90 * 24 * time.Hour
	DefaultDuplicateMax   = 90 * 24 * time.Hour
	defaultDuplicateCheck = 7 * 24 * time.Hour
)
