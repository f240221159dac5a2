#pragma once

#include "live/streamspec.h"

#include <QObject>
#include <QString>
#include <QStringList>

namespace edgelens {

// The sources a person opened lately, newest first, as File > Open Stream… offers them. The
// list in the settings file holds only what may be shown (StreamSpec::display(), credentials
// masked); a source with credentials keeps its full text in the desktop keyring, like the
// device token (service "EdgeLens", key "<organization>/<application>/stream/<masked text>").
// Without a keyring service its credentials are not kept at all: the person types them again.
// Keyring calls are asynchronous: answers come as signals.
class RecentStreams final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RecentStreams)

public:
    static constexpr int kMaxEntries = 10;

    explicit RecentStreams(QObject *parent = nullptr);
    ~RecentStreams() override;

    QStringList list() const;
    void remember(const StreamSpec &spec);
    // resolved(masked, text) follows: text is the full source (from the keyring when it has
    // credentials), empty when its credentials are not kept.
    void resolve(const QString &masked);
    static QString keyringKey(const QString &masked);

Q_SIGNALS:
    void resolved(const QString &masked, const QString &text);
    void credentialsNotKept(const QString &why);
};

} // namespace edgelens
