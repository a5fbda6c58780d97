package main

import (
	"context"
	"fmt"
	"io"

	"github.com/tramontane/tramontane/internal/app"
	"github.com/tramontane/tramontane/internal/blob"
	"github.com/tramontane/tramontane/internal/config"
)

func init() {
	register(command{"migrate-blobs", "--from local --to postgres|s3://bucket/prefix [-q]", "copy every file blob into another blob store", migrateBlobs})
}

// migrateBlobs copies every blob from one blob store to another, for
// instance from a single machine's data dir into PostgreSQL before adding
// instances. Blobs the destination already holds are skipped, so it can be
// run again after an interruption; the source is left as it was.
func migrateBlobs(args []string, stdout, stderr io.Writer) error {
	fs := flagSet("migrate-blobs", "--from local --to postgres|s3://bucket/prefix [-q]",
		"Copy every blob (files, generated images and plots, library documents) from one blob store\n"+
			"into another, e.g. a single machine's data dir into PostgreSQL or an S3 bucket. Blobs the\n"+
			"destination holds already are skipped, so it can be run again; the source is left as it was.\n"+
			"An s3:// store takes its endpoint and keys from TRAMONTANE_S3_* or AWS_* (docs/configuration.md).", stdout, stderr)
	f := config.RegisterStorageFlags(fs)
	from := fs.String("from", "local", "source blob store: local, postgres, a postgres:// URL or s3://bucket/prefix")
	to := fs.String("to", "", "destination blob store (same forms as --from), required")
	quiet := fs.Bool("q", false, "print only the summary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("migrate-blobs: unexpected argument %q", fs.Arg(0))}
	}
	if *to == "" {
		return usageError{"migrate-blobs: --to is required (postgres, a postgres:// URL or s3://bucket/prefix)"}
	}
	if *to == *from {
		return usageError{"migrate-blobs: --from and --to name the same store"}
	}
	c, err := config.Load(f)
	if err != nil {
		return err
	}
	ctx := context.Background()
	open := func(kind string) (blob.Store, io.Closer, error) {
		cc := c
		cc.ScaleOut.BlobURL = kind
		if err := config.CheckBlobURL(kind); err != nil {
			return nil, nil, err
		}
		return app.OpenBlobs(ctx, cc)
	}
	src, sc, err := open(*from)
	if err != nil {
		return fmt.Errorf("migrate-blobs: source %s: %w", *from, err)
	}
	defer sc.Close()
	dst, dc, err := open(*to)
	if err != nil {
		return fmt.Errorf("migrate-blobs: destination %s: %w", *to, err)
	}
	defer dc.Close()
	n, bytes, err := blob.Copy(ctx, dst, src, true, func(key string, size int64) {
		if !*quiet {
			fmt.Fprintf(stdout, "copied %s (%d bytes)\n", key, size)
		}
	})
	fmt.Fprintf(stdout, "migrate-blobs: copied %d blobs, %d bytes, from %s to %s\n", n, bytes, *from, *to)
	if err != nil {
		return fmt.Errorf("migrate-blobs: %w (run it again to resume: blobs already copied are skipped)", err)
	}
	return nil
}
