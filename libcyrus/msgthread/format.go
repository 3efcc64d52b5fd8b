package msgthread

import "strconv"

// AppendThreads appends the threads as the thread-list data of a THREAD
// response (RFC 5256 4: "(2)(3 6 (4 23)(44 7 96))"), each message as
// num(Seq): sequence numbers for THREAD, UIDs for UID THREAD. A chain of
// single children is written as successive numbers; siblings as nested
// lists; a dummy contributes no number, only the nesting of its children
// ("((3)(5))").
func AppendThreads(dst []byte, roots []*Node, num func(seq uint32) uint32) []byte {
	type frame struct {
		nodes []*Node
		i     int
	}
	stack := []frame{{nodes: roots}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.i > 0 {
			dst = append(dst, ')') // the list of the previous member ends
		}
		if f.i == len(f.nodes) {
			stack = stack[:len(stack)-1]
			continue
		}
		n := f.nodes[f.i]
		f.i++
		dst = append(dst, '(')
		for {
			if n.Seq == 0 {
				if len(n.Children) == 1 {
					n = n.Children[0]
					continue
				}
				stack = append(stack, frame{nodes: n.Children})
				break
			}
			dst = strconv.AppendUint(dst, uint64(num(n.Seq)), 10)
			if len(n.Children) == 0 {
				break
			}
			dst = append(dst, ' ')
			if len(n.Children) == 1 {
				n = n.Children[0]
				continue
			}
			stack = append(stack, frame{nodes: n.Children})
			break
		}
	}
	return dst
}
