package library

import (
	"context"
	"errors"

	"github.com/tramontane/tramontane/internal/apierr"
	"github.com/tramontane/tramontane/internal/store"
)

// Sharing is one access to a library (the wire shape of the /share
// endpoints).
type Sharing struct {
	LibraryID     string  `json:"library_id"`
	OrgID         string  `json:"org_id"`
	Role          string  `json:"role"`
	ShareWithType string  `json:"share_with_type"`
	ShareWithUUID *string `json:"share_with_uuid"`
	UserID        *string `json:"user_id"`
}

// ShareInput is a request to share (or stop sharing) a library.
type ShareInput struct {
	Level         string // "Viewer" or "Editor" (ignored by Unshare)
	ShareWithUUID string
	ShareWithType string // "Workspace" or "Org"
}

func (s *Service) sharing(libraryID, grantee, role string) Sharing {
	typ, who := "Workspace", grantee
	if grantee == store.AnyWorkspace {
		typ, who = "Org", s.orgID
	}
	return Sharing{LibraryID: libraryID, OrgID: s.orgID, Role: role, ShareWithType: typ, ShareWithUUID: &who}
}

// Accesses lists who has access: the owner first (role "Owner"), then
// the grants. Any workspace that can read the library may list them.
func (s *Service) Accesses(ctx context.Context, ws, id string) ([]Sharing, error) {
	l, err := s.access(ctx, ws, id, needRead)
	if err != nil {
		return nil, err
	}
	grants, err := s.store.ListLibraryAccesses(ctx, id)
	if err != nil {
		return nil, err
	}
	out := []Sharing{s.sharing(id, l.WorkspaceID, store.RoleOwner)}
	for _, g := range grants {
		out = append(out, s.sharing(id, g.Grantee, g.Role))
	}
	return out, nil
}

// grantee checks the target of a share and returns the stored grantee.
func (s *Service) grantee(ctx context.Context, owner string, in ShareInput) (string, error) {
	if in.ShareWithUUID == "" {
		return "", apierr.Field("body.share_with_uuid", "missing", "share_with_uuid is required")
	}
	switch in.ShareWithType {
	case "Workspace":
		if in.ShareWithUUID == owner {
			return "", apierr.Field("body.share_with_uuid", "value_error", "the library already belongs to this workspace")
		}
		if _, err := s.store.GetWorkspace(ctx, in.ShareWithUUID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return "", apierr.Field("body.share_with_uuid", "value_error", "no workspace %s in this deployment", in.ShareWithUUID)
			}
			return "", err
		}
		return in.ShareWithUUID, nil
	case "Org":
		if in.ShareWithUUID != s.orgID {
			return "", apierr.Field("body.share_with_uuid", "value_error", "share_with_uuid must be this deployment's organisation id %s", s.orgID)
		}
		return store.AnyWorkspace, nil
	case "User":
		return "", apierr.Field("body.share_with_type", "value_error", "sharing with users is not supported: Tramontane shares libraries between workspaces (share_with_type 'Workspace', or 'Org' for all of them)")
	case "":
		return "", apierr.Field("body.share_with_type", "missing", "share_with_type is required")
	}
	return "", apierr.Field("body.share_with_type", "enum", "share_with_type must be 'Workspace', 'Org' or 'User'")
}

// Share creates or updates an access (owner only).
func (s *Service) Share(ctx context.Context, ws, id string, in ShareInput) (*Sharing, error) {
	l, err := s.access(ctx, ws, id, needOwner)
	if err != nil {
		return nil, err
	}
	if in.Level != store.RoleViewer && in.Level != store.RoleEditor {
		return nil, apierr.Field("body.level", "enum", "level must be 'Viewer' or 'Editor'")
	}
	g, err := s.grantee(ctx, l.WorkspaceID, in)
	if err != nil {
		return nil, err
	}
	at := s.clock()
	if err := s.store.PutLibraryAccess(ctx, &store.LibraryAccess{LibraryID: id, Grantee: g, Role: in.Level, CreatedAt: at, UpdatedAt: at}); err != nil {
		return nil, err
	}
	sh := s.sharing(id, g, in.Level)
	return &sh, nil
}

// Unshare removes an access (owner only) and returns it.
func (s *Service) Unshare(ctx context.Context, ws, id string, in ShareInput) (*Sharing, error) {
	l, err := s.access(ctx, ws, id, needOwner)
	if err != nil {
		return nil, err
	}
	g, err := s.grantee(ctx, l.WorkspaceID, in)
	if err != nil {
		return nil, err
	}
	grants, err := s.store.ListLibraryAccesses(ctx, id)
	if err != nil {
		return nil, err
	}
	role := ""
	for _, a := range grants {
		if a.Grantee == g {
			role = a.Role
		}
	}
	if err := s.store.DeleteLibraryAccess(ctx, id, g); errors.Is(err, store.ErrNotFound) {
		return nil, apierr.NotFoundf("library %s is not shared with %s", id, in.ShareWithUUID)
	} else if err != nil {
		return nil, err
	}
	sh := s.sharing(id, g, role)
	return &sh, nil
}
