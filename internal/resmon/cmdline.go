package resmon

import (
	"errors"
	"fmt"
)

// SplitCommandLine splits a Generic Application's CommandLine into argv the way a POSIX
// shell splits words, and does nothing else a shell does: blanks (space, tab, newline)
// separate words; 'single quotes' keep everything literally; "double quotes" keep
// everything except that a backslash escapes $ ` " \ and newline; outside quotes a
// backslash escapes the next character. There is no variable expansion, globbing,
// redirection or pipeline: `a | b` is three words. Run "/bin/sh -c '...'" explicitly
// for those.
func SplitCommandLine(s string) ([]string, error) {
	var (
		args   []string
		word   []rune
		inWord bool
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				args = append(args, string(word))
				word, inWord = word[:0:0], false
			}
		case c == '\\':
			if i+1 >= len(rs) {
				return nil, errors.New("resmon: command line ends with a backslash")
			}
			i++
			if rs[i] != '\n' { // backslash-newline is a line continuation
				word = append(word, rs[i])
			}
			inWord = true
		case c == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("resmon: command line: unterminated ' at character %d", i+1)
			}
			word = append(word, rs[i+1:j]...)
			i, inWord = j, true
		case c == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) {
					switch rs[j+1] {
					case '$', '`', '"', '\\':
						j++
						word = append(word, rs[j])
						continue
					case '\n':
						j++
						continue
					}
				}
				word = append(word, rs[j])
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("resmon: command line: unterminated \" at character %d", i+1)
			}
			i, inWord = j, true
		default:
			word = append(word, c)
			inWord = true
		}
	}
	if inWord {
		args = append(args, string(word))
	}
	return args, nil
}
