#pragma once

#include <QIcon>
#include <QString>

namespace edgelens::icons {

// The EdgeLens application icon at every shipped size (16..256 px).
QIcon appIcon();

// A toolbar icon from resources/icons: "zoom-in", "zoom-out", "zoom-fit", "zoom-original",
// "run", "stop", "settings", "export". A null icon (and a log line) for unknown names.
QIcon icon(const QString &name);

} // namespace edgelens::icons
