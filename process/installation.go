package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// An installation of ozgflow knows itself by an ID that its parts carry:
// the Temporal namespace (in its data), the data directory of `dev` (the
// file "installation") and Redis (the projections' marker). A start that
// finds the namespace and the data directory disagreeing refuses; Redis
// disagreeing is a cache to rebuild.

// installationKey is the namespace data key of the installation ID.
const installationKey = "ozgflow-installation"

// installationFile is the file of the data directory that holds the ID.
const installationFile = "installation"

// namespaceInstallation reads the installation ID the namespace carries;
// "" when it carries none.
func namespaceInstallation(ctx context.Context, tc client.Client, ns string) (string, error) {
	desc, err := tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil {
		return "", fmt.Errorf("describe namespace %s: %w", ns, err)
	}
	return desc.GetNamespaceInfo().GetData()[installationKey], nil
}

// ensureInstallation returns the namespace's installation ID and gives the
// namespace a new one when it carries none yet. Of two processes doing so
// at once, the later write wins; both read it back.
func ensureInstallation(ctx context.Context, tc client.Client, ns string) (string, error) {
	id, err := namespaceInstallation(ctx, tc, ns)
	if err != nil || id != "" {
		return id, err
	}
	if err := setNamespaceInstallation(ctx, tc, ns, uuid.NewString()); err != nil {
		return "", err
	}
	time.Sleep(200 * time.Millisecond)
	return namespaceInstallation(ctx, tc, ns)
}

// setNamespaceInstallation writes the installation ID into the namespace's data.
func setNamespaceInstallation(ctx context.Context, tc client.Client, ns, id string) error {
	_, err := tc.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace:  ns,
		UpdateInfo: &namespace.UpdateNamespaceInfo{Data: map[string]string{installationKey: id}},
	})
	if err != nil {
		return fmt.Errorf("mark namespace %s with the installation: %w", ns, err)
	}
	return nil
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

// devInstallation settles the installation ID of dev: the data directory's
// and the namespace's must agree. A data directory that has an ID beside a
// namespace without one (or with another) holds an engine database that
// is new or not its own, and dev refuses to start on it. A namespace
// without an ID gets the data directory's, or a new one on a first start
// (and on the first start of an installation from before IDs).
func devInstallation(ctx context.Context, tc client.Client, ns, dataDir string) (string, error) {
	fromDir := ""
	if dataDir != "" {
		var err error
		if fromDir, err = dataDirInstallation(dataDir); err != nil {
			return "", err
		}
	}
	fromNS, err := namespaceInstallation(ctx, tc, ns)
	if err != nil {
		return "", err
	}
	switch {
	case fromDir != "" && fromNS != "" && fromDir != fromNS:
		return "", fmt.Errorf("data directory %s belongs to installation %s, but its Temporal namespace %s to "+
			"installation %s: temporal.db is not the engine database of this data directory. Restore the data "+
			"directory from one backup; to start afresh, move it away", dataDir, fromDir, ns, fromNS)
	case fromDir != "" && fromNS == "":
		return "", fmt.Errorf("data directory %s belongs to installation %s, but its Temporal namespace %s is new: "+
			"the engine's database with every open case is gone or was replaced. Restore %s from your backup; "+
			"to start afresh, move the data directory away", dataDir, fromDir, ns, filepath.Join(dataDir, "temporal.db"))
	}
	id := fromNS
	if id == "" {
		id = uuid.NewString()
		if err := setNamespaceInstallation(ctx, tc, ns, id); err != nil {
			return "", err
		}
	}
	if dataDir != "" && fromDir == "" {
		if err := os.WriteFile(filepath.Join(dataDir, installationFile), []byte(id+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("write the installation of data directory %s: %w", dataDir, err)
		}
	}
	return id, nil
}
