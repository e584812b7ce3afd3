package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/xuri/excelize/v2"

	"agora/i18n"
)

// column is one column of an export: its name and its width in a
// spreadsheet (characters).
type column struct {
	name  string
	width float64
}

// catalog holds the header of every column, "exports.column.<name>", in
// every language of the portal.
var catalog = sync.OnceValues(i18n.Load)

// headers are the headers of src's columns in locale: the header of the
// column's name, or the column's own (a registration question's label).
func (src *source) headers(locale string) ([]string, error) {
	names, err := catalog()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(src.columns))
	for i, c := range src.columns {
		if out[i] = src.labels[c.name]; out[i] == "" {
			out[i] = names.T(locale, "exports.column."+c.name)
		}
	}
	return out, nil
}

// sheet writes rows to a file, one at a time, holding no more than a row
// (and the spreadsheet library's small buffer) in memory.
type sheet interface {
	// header writes the first row, each column's header, and must be
	// called once, first.
	header(cols []column, heads []string) error
	// row writes one row. Values are string, int64, float64, bool,
	// time.Time or nil (an empty cell).
	row(vals []any) error
	// close finishes the file. abort removes what was written.
	close() error
	abort()
}

// newSheet creates path and returns the sheet writing format into it. Times
// are written in loc.
func newSheet(format Format, path, title string, loc *time.Location) (sheet, error) {
	switch format {
	case XLSX:
		return newXLSX(path, title, loc)
	case CSV:
		return newCSV(path, loc)
	}
	return nil, fmt.Errorf("export: no writer for format %q", format)
}

// xlsxSheet streams rows into one worksheet with excelize's StreamWriter,
// which spills rows to a temporary file in the export's directory instead of
// keeping them in memory.
type xlsxSheet struct {
	path      string
	loc       *time.Location
	f         *excelize.File
	sw        *excelize.StreamWriter
	n         int // rows written, header included
	dateStyle int
	cells     []any // reused for each row
}

func newXLSX(path, title string, loc *time.Location) (*xlsxSheet, error) {
	f := excelize.NewFile(excelize.Options{TmpDir: filepath.Dir(path)})
	if err := f.SetSheetName("Sheet1", title); err != nil {
		_ = f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(title)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 22}) // m/d/yy h:mm, shown in the reader's locale
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &xlsxSheet{path: path, loc: loc, f: f, sw: sw, dateStyle: date}, nil
}

func (x *xlsxSheet) header(cols []column, heads []string) error {
	for i, c := range cols {
		if err := x.sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return err
		}
	}
	// The header stays in view while scrolling.
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	bold, err := x.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	vals := make([]any, len(heads))
	for i, h := range heads {
		vals[i] = h
	}
	x.n++
	return x.sw.SetRow("A1", vals, excelize.RowOpts{StyleID: bold})
}

func (x *xlsxSheet) row(vals []any) error {
	x.n++
	if cap(x.cells) < len(vals) {
		x.cells = make([]any, len(vals))
	}
	cells := x.cells[:len(vals)]
	for i, v := range vals {
		if t, ok := v.(time.Time); ok {
			cells[i] = excelize.Cell{StyleID: x.dateStyle, Value: t.In(x.loc)}
			continue
		}
		cells[i] = v
	}
	cell, err := excelize.CoordinatesToCellName(1, x.n)
	if err != nil {
		return err
	}
	return x.sw.SetRow(cell, cells)
}

func (x *xlsxSheet) close() error {
	if err := x.sw.Flush(); err != nil {
		x.abort()
		return err
	}
	if err := x.f.SaveAs(x.path); err != nil {
		x.abort()
		return err
	}
	return x.f.Close()
}

func (x *xlsxSheet) abort() {
	_ = x.f.Close()
	_ = os.Remove(x.path)
}

// csvSheet writes RFC 4180 CSV in UTF-8 with a byte order mark (so that
// spreadsheets read accents right). Text that a spreadsheet would run as a
// formula is defused.
type csvSheet struct {
	path string
	loc  *time.Location
	file *os.File
	buf  *bufio.Writer
	w    *csv.Writer
	rec  []string // reused for each row
}

func newCSV(path string, loc *time.Location) (*csvSheet, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(f, 64<<10)
	_, _ = buf.WriteString("\ufeff")
	return &csvSheet{path: path, loc: loc, file: f, buf: buf, w: csv.NewWriter(buf)}, nil
}

func (c *csvSheet) header(_ []column, heads []string) error {
	return c.w.Write(heads)
}

func (c *csvSheet) row(vals []any) error {
	if cap(c.rec) < len(vals) {
		c.rec = make([]string, len(vals))
	}
	rec := c.rec[:len(vals)]
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
			rec[i] = ""
		case string:
			rec[i] = spreadsheetSafe(v)
		case int64:
			rec[i] = strconv.FormatInt(v, 10)
		case float64:
			rec[i] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			rec[i] = strconv.FormatBool(v)
		case time.Time:
			rec[i] = v.In(c.loc).Format(time.RFC3339)
		default:
			rec[i] = spreadsheetSafe(fmt.Sprint(v))
		}
	}
	return c.w.Write(rec)
}

func (c *csvSheet) close() error {
	c.w.Flush()
	err := c.w.Error()
	if err == nil {
		err = c.buf.Flush()
	}
	if err == nil {
		err = c.file.Sync()
	}
	if cerr := c.file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(c.path)
	}
	return err
}

func (c *csvSheet) abort() {
	_ = c.file.Close()
	_ = os.Remove(c.path)
}
