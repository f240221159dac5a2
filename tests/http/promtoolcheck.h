#pragma once

#include <QByteArray>
#include <QString>

namespace edgelens::test {

// Runs Debian's `promtool check metrics` (package prometheus) on a /metrics text. Returns
// empty when it passes, else promtool's complaint. `*missing` is set when promtool is not
// installed, for the caller to fail under CI=true and skip otherwise.
QString promtoolProblems(const QByteArray &exposition, bool *missing);

} // namespace edgelens::test
