package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// An installation of ozgflow knows itself by the ID of its Temporal
// namespace, which the engine gives a namespace when it creates it: a new
// engine database has a new one. The data directory of `dev` keeps it in
// the file "installation", and Redis as the projections' marker. A start
// that finds the namespace and the data directory disagreeing refuses;
// Redis disagreeing is a cache to rebuild.

// installationFile is the file of the data directory that holds the ID.
const installationFile = "installation"

// namespaceInstallation reads the installation ID: the namespace's ID.
func namespaceInstallation(ctx context.Context, tc client.Client, ns string) (string, error) {
	desc, err := tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil {
		return "", fmt.Errorf("describe namespace %s: %w", ns, err)
	}
	id := desc.GetNamespaceInfo().GetId()
	if id == "" {
		return "", fmt.Errorf("namespace %s has no ID", ns)
	}
	return id, nil
}

// dataDirInstallation reads the installation ID of a data directory; ""
// when it has none yet.
func dataDirInstallation(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, installationFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the installation of data directory %s: %w", dir, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// devInstallation settles the installation ID of dev: the data
// directory's and the namespace's must agree. A data directory whose ID
// differs from its namespace's holds an engine database that is new or not
// its own, and dev refuses to start on it. A data directory without an ID
// (a first start, or one from before IDs) gets the namespace's.
func devInstallation(ctx context.Context, tc client.Client, ns, dataDir string) (string, error) {
	id, err := namespaceInstallation(ctx, tc, ns)
	if err != nil || dataDir == "" {
		return id, err
	}
	fromDir, err := dataDirInstallation(dataDir)
	if err != nil {
		return "", err
	}
	switch {
	case fromDir == "":
		if err := os.WriteFile(filepath.Join(dataDir, installationFile), []byte(id+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("write the installation of data directory %s: %w", dataDir, err)
		}
	case fromDir != id:
		return "", fmt.Errorf("data directory %s belongs to installation %s, but its Temporal namespace %s is "+
			"installation %s: temporal.db is not the engine database of this data directory (new, or from "+
			"elsewhere). Restore %s from your backup; to start afresh, move the data directory away",
			dataDir, fromDir, ns, id, filepath.Join(dataDir, "temporal.db"))
	}
	return id, nil
}
