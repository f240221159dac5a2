#pragma once

#include <QStringList>

namespace edgelens {

// `edgelens-cli models list | download NAME... | verify [NAME...]`. arguments[0] is the
// program name. Returns the process exit code.
int runModelsCommand(const QStringList &arguments);

} // namespace edgelens
