#include "recentstreams.h"

#include <qt6keychain/keychain.h>

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QSettings>

Q_LOGGING_CATEGORY(lcRecentStreams, "edgelens.app.recentstreams")

namespace edgelens {

namespace {

const QString kService = QStringLiteral("EdgeLens");
const QString kListKey = QStringLiteral("live/recent");
const QString kCredentialsKey = QStringLiteral("live/withCredentials"); // masked texts kept in the keyring

QSettings appSettings()
{
    return QSettings(QCoreApplication::organizationName(), QCoreApplication::applicationName());
}

} // namespace

RecentStreams::RecentStreams(QObject *parent)
    : QObject(parent)
{
}

RecentStreams::~RecentStreams() = default;

QString RecentStreams::keyringKey(const QString &masked)
{
    return QStringLiteral("%1/%2/stream/%3")
        .arg(QCoreApplication::organizationName(), QCoreApplication::applicationName(), masked);
}

QStringList RecentStreams::list() const
{
    return appSettings().value(kListKey).toStringList();
}

void RecentStreams::remember(const StreamSpec &spec)
{
    const QString masked = spec.display();
    QSettings settings = appSettings();
    QStringList entries = settings.value(kListKey).toStringList();
    entries.removeAll(masked);
    entries.prepend(masked);
    while (entries.size() > kMaxEntries)
        entries.removeLast();
    settings.setValue(kListKey, entries);
    QStringList withCredentials = settings.value(kCredentialsKey).toStringList();
    withCredentials.removeAll(masked);
    if (spec.hasCredentials()) {
        auto *job = new QKeychain::WritePasswordJob(kService); // deletes itself when finished
        job->setKey(keyringKey(masked));
        job->setTextData(spec.text);
        connect(job, &QKeychain::Job::finished, this, [this, job, masked] {
            if (job->error() == QKeychain::NoError) {
                QSettings stored = appSettings();
                QStringList kept = stored.value(kCredentialsKey).toStringList();
                if (!kept.contains(masked))
                    kept.append(masked);
                stored.setValue(kCredentialsKey, kept);
                return;
            }
            qCInfo(lcRecentStreams).noquote() << "credentials of" << masked << "not kept:" << job->errorString();
            Q_EMIT credentialsNotKept(tr("The stream's credentials were not kept (%1): type them again next time.")
                                          .arg(job->errorString()));
        });
        job->start();
    }
    settings.setValue(kCredentialsKey, withCredentials);
}

void RecentStreams::resolve(const QString &masked)
{
    if (!appSettings().value(kCredentialsKey).toStringList().contains(masked)) {
        // Nothing was masked in it (or its credentials were never kept): it is its own text,
        // unless it shows a mask, which only the keyring could fill in.
        const QString text = masked.contains(QStringLiteral("***")) ? QString() : masked;
        QMetaObject::invokeMethod(this, [this, masked, text] { Q_EMIT resolved(masked, text); }, Qt::QueuedConnection);
        return;
    }
    auto *job = new QKeychain::ReadPasswordJob(kService);
    job->setKey(keyringKey(masked));
    connect(job, &QKeychain::Job::finished, this, [this, job, masked] {
        Q_EMIT resolved(masked, job->error() == QKeychain::NoError ? job->textData() : QString());
    });
    job->start();
}

} // namespace edgelens
