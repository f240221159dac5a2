#pragma once

#include <QStringList>

// `edgelens-cli eval`: scores a model (run in-process) or an earlier `--json` run against
// COCO JSON or YOLO txt ground truth. `arguments` are what follows "eval" on the command line.
// Returns the process exit code: 0 scored, 1 could not score (model, files), 2 usage error.
int runEvalCommand(const QStringList &arguments);
