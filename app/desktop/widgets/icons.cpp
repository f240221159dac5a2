#include "widgets/icons.h"

#include <QFile>
#include <QLoggingCategory>

Q_LOGGING_CATEGORY(lcIcons, "edgelens.widgets.icons")

// Resources compiled into a static library are only registered when something references
// their initialiser, so every accessor makes sure it ran (once).
static void ensureIconResources()
{
    static const bool done = [] {
        Q_INIT_RESOURCE(icons);
        return true;
    }();
    Q_UNUSED(done);
}

namespace edgelens::icons {

QIcon appIcon()
{
    ensureIconResources();
    QIcon icon;
    for (int size : {16, 32, 48, 64, 128, 256})
        icon.addFile(QStringLiteral(":/icons/edgelens-%1.png").arg(size), QSize(size, size));
    return icon;
}

QIcon icon(const QString &name)
{
    ensureIconResources();
    const QString path = QStringLiteral(":/icons/%1.png").arg(name);
    if (!QFile::exists(path)) {
        qCWarning(lcIcons) << "no icon named" << name;
        return {};
    }
    return QIcon(path);
}

} // namespace edgelens::icons
