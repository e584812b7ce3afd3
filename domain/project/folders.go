package project

import (
	"agora/domain/user"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/locale"
	"agora/domain/media"
	"agora/tenant"
)

// Folder groups projects on the portal's home page.
type Folder struct {
	ID       int64       `db:"id" json:"id"`
	Title    locale.Text `db:"title" json:"title"`
	Position int         `db:"position" json:"position"`
	Projects int         `db:"projects" json:"projects"`
}

// Folders lists the city's folders in order, with how many projects each holds.
func (s *Service) Folders(ctx context.Context) ([]Folder, error) {
	var out []Folder
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT f.id, f.title, f.position, (SELECT count(*) FROM projects p WHERE p.folder_id = f.id) AS projects
			FROM project_folders f ORDER BY f.position, f.id`)
	})
	return out, err
}

// AddFolder creates a folder after the others. Errors: errs.Invalid naming
// the field.
func (s *Service) AddFolder(ctx context.Context, actor user.ID, title locale.Text) (*Folder, error) {
	const op = "project.AddFolder"
	if err := locale.CheckTitle(op, "title", title); err != nil {
		return nil, err
	}
	f := Folder{Title: title}
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		err := tx.QueryRowxContext(ctx, `INSERT INTO project_folders (title, position)
			VALUES ($1, (SELECT coalesce(max(position), 0) + 1 FROM project_folders)) RETURNING id, position`, title).Scan(&f.ID, &f.Position)
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: int64(actor), Action: "folder.created", ItemType: "folder", ItemID: f.ID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// RemoveFolder deletes a folder; its projects stay, outside any folder.
// Errors: errs.NotFound.
func (s *Service) RemoveFolder(ctx context.Context, actor user.ID, id int64) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM project_folders WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E("project.RemoveFolder", errs.NotFound, "no folder %d", id)
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: int64(actor), Action: "folder.deleted", ItemType: "folder", ItemID: id})
		return err
	})
}

// Move shifts a project one place up (delta -1) or down (+1) in the manual
// order, renumbering the list so positions stay distinct. Errors:
// errs.NotFound, errs.Invalid for another delta.
func (s *Service) Move(ctx context.Context, actor user.ID, id ID, delta int) error {
	const op = "project.Move"
	if delta != -1 && delta != 1 {
		return errs.InvalidField(op, "direction", "must be up or down").WithRule("choice")
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var ids []int64
		// Locking every row in order makes concurrent moves queue.
		if err := tx.SelectContext(ctx, &ids, `SELECT id FROM projects ORDER BY position, id FOR UPDATE`); err != nil {
			return err
		}
		at := -1
		for i, x := range ids {
			if ID(x) == id {
				at = i
			}
		}
		if at < 0 {
			return errs.E(op, errs.NotFound, "no project %d", id)
		}
		to := at + delta
		if to < 0 || to >= len(ids) {
			return nil // already first or last
		}
		ids[at], ids[to] = ids[to], ids[at]
		if _, err := tx.ExecContext(ctx, `UPDATE projects p SET position = o.n FROM unnest($1::bigint[]) WITH ORDINALITY AS o(id, n)
			WHERE p.id = o.id AND p.position <> o.n`, int64s(ids)); err != nil {
			return err
		}
		return logActivity(ctx, tx, actor, "project.moved", id)
	})
}

// SetHeader stores a PNG or JPEG as the project's header image, replacing
// the previous one. Errors: errs.Invalid naming "header_image", errs.NotFound.
func (s *Service) SetHeader(ctx context.Context, actor user.ID, id ID, data []byte, storageDir string) (*Project, error) {
	const op = "project.SetHeader"
	name, err := media.Save(ctx, op, "header_image", storageDir, "projects", fmt.Sprint(id), data)
	if err != nil {
		return nil, err
	}
	var old string
	err = s.db.InTx(ctx, func(tx *tenant.Tx) error {
		err := tx.GetContext(ctx, &old, `SELECT header_image FROM projects WHERE id = $1 FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "no project %d", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET header_image = $2, updated_at = now() WHERE id = $1`, id, name); err != nil {
			return err
		}
		return logActivity(ctx, tx, actor, "project.header_changed", id)
	})
	if err != nil {
		media.Remove(ctx, storageDir, "projects", name)
		return nil, err
	}
	media.Remove(ctx, storageDir, "projects", old)
	return s.Get(ctx, fmt.Sprint(id))
}

// HeaderFile returns the path of the project's current header image named
// name. Errors: errs.NotFound.
func (s *Service) HeaderFile(ctx context.Context, p *Project, name, storageDir string) (string, error) {
	path := media.Path(ctx, storageDir, "projects", name)
	if path == "" || name != p.HeaderImage {
		return "", errs.E("project.HeaderFile", errs.NotFound, "no such image")
	}
	return path, nil
}
