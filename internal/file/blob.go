// Package file implements the Files API: metadata in the store, content in
// a blob store (internal/blob), and HMAC-signed download links.
package file

import "github.com/tramontane/tramontane/internal/blob"

// Blobs is the blob store the Files API keeps contents in.
type Blobs = blob.Store

// PutResult describes stored content.
type PutResult = blob.PutResult

// ErrTooLarge is returned when content exceeds the size limit.
var ErrTooLarge = blob.ErrTooLarge

// TempGrace is how long a partial upload of the local blob store may go
// unmodified before a sweep removes it (see blob.Local.SweepTemp).
const TempGrace = blob.TempGrace
