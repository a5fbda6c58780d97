package main

import (
	"fmt"
	"time"
)

// table collects rows and prints them as Markdown.
type table struct {
	rows  []string
	notes []string
}

func ms(d time.Duration) string {
	v := float64(d.Microseconds()) / 1000
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// add records a row; base, when set, is the row it adds latency to.
func (t *table) add(name string, conc int, r result, base *result) {
	added50, added99 := "–", "–"
	if base != nil {
		added50, added99 = ms(r.pct(50)-base.pct(50)), ms(r.pct(99)-base.pct(99))
	}
	t.rows = append(t.rows, fmt.Sprintf("| %s | %d | %d | %s | %s | %s | %s | %.0f/s |",
		name, conc, len(r.lat), ms(r.pct(50)), ms(r.pct(99)), added50, added99, r.rate()))
}

func (t *table) note(s string) { t.notes = append(t.notes, s) }

func (t *table) print() {
	fmt.Println("| scenario | clients | n | p50 | p99 | added p50 | added p99 | throughput |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range t.rows {
		fmt.Println(r)
	}
	for _, n := range t.notes {
		fmt.Println()
		fmt.Println(n)
	}
}
