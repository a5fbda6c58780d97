package console

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tramontane/tramontane/internal/auth"
	"github.com/tramontane/tramontane/internal/conversation"
	"github.com/tramontane/tramontane/internal/store"
)

// Recorder adds each run's usage to the per-day ledger (it implements
// httpapi.UsageRecorder).
type Recorder struct {
	Store store.UsageStore
	Now   func() time.Time
}

// RecordUsage adds one run. Failures are ignored: usage accounting must
// never fail a run that already answered.
func (r Recorder) RecordUsage(ctx context.Context, workspace, model string, u conversation.Usage) {
	if r.Store == nil || workspace == "" {
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ct := 0
	if u.ConnectorTokens != nil {
		ct = *u.ConnectorTokens
	}
	_ = r.Store.AddUsage(ctx, workspace, store.UsageDay{
		Day: now().UTC().Format(time.DateOnly), Model: model, Requests: 1,
		PromptTokens: int64(u.PromptTokens), CompletionTokens: int64(u.CompletionTokens), ConnectorTokens: int64(ct),
	})
}

// chart geometry (SVG user units).
const (
	chartW, chartH = 760.0, 240.0
	chartLeft      = 56.0
	chartBottom    = 24.0
	chartDays      = 30
)

var palette = []string{"#0b5cad", "#d97706", "#1e7a3a", "#b3261e", "#7c3aed", "#0e7490", "#be185d", "#4d7c0f"}

type bar struct {
	X, Y, W, H float64
	Color      string
	Title      string
}

type tick struct {
	X, Y  float64
	Label string
}

type legend struct {
	Model, Color string
}

type usageView struct {
	Bars    []bar
	XTicks  []tick
	YTicks  []tick
	Legend  []legend
	Rows    []store.UsageDay
	Totals  store.UsageDay
	W, H    float64
	Left    float64
	Base    float64
	From    string
	To      string
	HasData bool
}

func (c *Console) usagePage(w http.ResponseWriter, r *http.Request) {
	if c.UsageStore == nil {
		c.render(w, r, http.StatusServiceUnavailable, "error", page{Title: "Usage", Nav: "usage", Error: "Usage is not recorded on this server."})
		return
	}
	end := c.Now().UTC()
	start := end.AddDate(0, 0, -(chartDays - 1))
	from, to := start.Format(time.DateOnly), end.Format(time.DateOnly)
	rows, err := c.UsageStore.ListUsage(r.Context(), auth.From(r.Context()).WorkspaceID, from, to)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "usage", page{Title: "Usage", Nav: "usage", Data: buildChart(rows, start)})
}

// buildChart lays out stacked bars of tokens per day, one colour per model.
func buildChart(rows []store.UsageDay, start time.Time) usageView {
	v := usageView{Rows: rows, W: chartW, H: chartH, Left: chartLeft, Base: chartH - chartBottom,
		From: start.Format(time.DateOnly), To: start.AddDate(0, 0, chartDays-1).Format(time.DateOnly)}
	colors := map[string]string{}
	perDay := map[string]int64{}
	var maxDay int64
	for _, u := range rows {
		if _, ok := colors[u.Model]; !ok {
			colors[u.Model] = palette[len(colors)%len(palette)]
			v.Legend = append(v.Legend, legend{u.Model, colors[u.Model]})
		}
		t := u.PromptTokens + u.CompletionTokens + u.ConnectorTokens
		perDay[u.Day] += t
		maxDay = max(maxDay, perDay[u.Day])
		v.Totals.Requests += u.Requests
		v.Totals.PromptTokens += u.PromptTokens
		v.Totals.CompletionTokens += u.CompletionTokens
		v.Totals.ConnectorTokens += u.ConnectorTokens
	}
	v.HasData = len(rows) > 0
	if maxDay == 0 {
		maxDay = 1
	}
	plotH := chartH - chartBottom - 10
	slot := (chartW - chartLeft - 24) / chartDays
	dayIndex := map[string]int{}
	for i := range chartDays {
		d := start.AddDate(0, 0, i)
		dayIndex[d.Format(time.DateOnly)] = i
		if i%5 == 0 || i == chartDays-1 {
			v.XTicks = append(v.XTicks, tick{X: chartLeft + slot*float64(i) + slot/2, Y: chartH - 6, Label: d.Format("Jan 2")})
		}
	}
	for i := 0; i <= 4; i++ {
		val := float64(maxDay) * float64(i) / 4
		v.YTicks = append(v.YTicks, tick{X: chartLeft - 6, Y: chartH - chartBottom - plotH*float64(i)/4, Label: fmt.Sprintf("%.0f", val)})
	}
	stacked := map[string]float64{}
	for _, u := range rows {
		i, ok := dayIndex[u.Day]
		if !ok {
			continue
		}
		t := u.PromptTokens + u.CompletionTokens + u.ConnectorTokens
		h := plotH * float64(t) / float64(maxDay)
		y := chartH - chartBottom - stacked[u.Day] - h
		stacked[u.Day] += h
		v.Bars = append(v.Bars, bar{X: chartLeft + slot*float64(i) + 2, Y: y, W: slot - 4, H: h, Color: colors[u.Model],
			Title: fmt.Sprintf("%s · %s: %d tokens in %d requests", u.Day, u.Model, t, u.Requests)})
	}
	return v
}
