#include "widgets/tokenstore.h"

#include <qt6keychain/keychain.h>

#include <QCoreApplication>
#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDir>
#include <QLoggingCategory>
#include <QSettings>

Q_LOGGING_CATEGORY(lcTokenStore, "edgelens.widgets.tokenstore")

namespace edgelens {

namespace {

const QString kService = QStringLiteral("EdgeLens");

QSettings appSettings()
{
    return QSettings(QStringLiteral("EdgeLens"), QStringLiteral("EdgeLens"));
}

// The keyring services QtKeychain talks to on Linux: the Secret Service (GNOME Keyring,
// KeePassXC, ...) and KWallet.
const QStringList kKeyringServices = {
    QStringLiteral("org.freedesktop.secrets"),
    QStringLiteral("org.kde.kwalletd6"),
    QStringLiteral("org.kde.kwalletd5"),
    QStringLiteral("org.kde.kwalletd"),
};

} // namespace

TokenStore::TokenStore(QObject *parent, Keyring keyring)
    : QObject(parent)
    , m_keyring(std::move(keyring))
{
}

TokenStore::~TokenStore() = default;

QString TokenStore::keyringKey()
{
    return QStringLiteral("%1/%2/device-token").arg(QCoreApplication::organizationName(), QCoreApplication::applicationName());
}

QString TokenStore::settingsKey()
{
    return QStringLiteral("connection/token");
}

bool TokenStore::keyringServiceOnSessionBus()
{
    QDBusConnection bus = QDBusConnection::sessionBus();
    if (!bus.isConnected() || !bus.interface())
        return false;
    const QStringList activatable = bus.interface()->activatableServiceNames().value();
    for (const QString &service : kKeyringServices) {
        if (bus.interface()->isServiceRegistered(service).value() || activatable.contains(service))
            return true;
    }
    return false;
}

// QtKeychain reports a keyring that is not there as NoBackendAvailable on some platforms and as
// OtherError ("Unknown error") from its Linux backends, which is also what other failures
// look like: whether a service is on the bus tells the two apart. A refusal is never "no
// service", so it never leads to the plain-text file.
TokenStore::Trouble TokenStore::troubleOf(const QKeychain::Job *job) const
{
    switch (job->error()) {
    case QKeychain::NoError:
    case QKeychain::EntryNotFound:
        return Trouble::None;
    case QKeychain::AccessDeniedByUser:
    case QKeychain::AccessDenied:
        return Trouble::Refused;
    case QKeychain::NoBackendAvailable:
    case QKeychain::NotImplemented:
        return Trouble::NoService;
    case QKeychain::CouldNotDeleteEntry:
    case QKeychain::OtherError:
        break;
    }
    const bool running = m_keyring.serviceRunning ? m_keyring.serviceRunning() : keyringServiceOnSessionBus();
    return running ? Trouble::Failed : Trouble::NoService;
}

void TokenStore::startJob(QKeychain::Job *job)
{
    if (m_keyring.start)
        m_keyring.start(job);
    else
        job->start();
}

void TokenStore::setWhere(Where where, const QString &note)
{
    if (where == m_where && note == m_note)
        return;
    m_where = where;
    m_note = note;
    emit whereChanged(where, note);
}

void TokenStore::useFallback(const QString &keyringError)
{
    QSettings settings = appSettings();
    qCInfo(lcTokenStore) << "no keyring service:" << keyringError << "- the token is kept in" << settings.fileName();
    setWhere(Where::SettingsFile,
             tr("No keyring service is running (%1), so the token is kept in the settings file %2, "
                "readable by anyone who can read your files.")
                 .arg(keyringError, QDir::toNativeSeparators(settings.fileName())));
}

void TokenStore::noteNotKept(Trouble trouble, const QString &keyringError, bool writing)
{
    qCWarning(lcTokenStore) << "the keyring" << (trouble == Trouble::Refused ? "refused access:" : "failed:")
                            << keyringError << "- the token is not written anywhere";
    const QString what = trouble == Trouble::Refused ? tr("The keyring refused access (%1)").arg(keyringError)
                                                     : tr("The keyring failed (%1)").arg(keyringError);
    setWhere(Where::Nowhere,
             writing ? tr("%1, so the token is not saved: it is used until EdgeLens quits. Allow or unlock the "
                          "keyring and save the settings again to keep it.")
                           .arg(what)
                     : tr("%1, so the stored token could not be read; enter it again.").arg(what));
}

void TokenStore::read()
{
    m_busy = true;
    auto *job = new QKeychain::ReadPasswordJob(kService); // deletes itself when finished
    job->setKey(keyringKey());
    connect(job, &QKeychain::Job::finished, this, [this, job] {
        m_busy = false;
        QString token;
        switch (troubleOf(job)) {
        case Trouble::None:
            if (job->error() == QKeychain::NoError)
                token = job->textData();
            setWhere(Where::Keyring, QString());
            break;
        case Trouble::NoService:
            useFallback(job->errorString());
            break;
        case Trouble::Refused:
        case Trouble::Failed:
            noteNotKept(troubleOf(job), job->errorString(), false);
            break;
        }
        if (token.isEmpty()) {
            // Kept in the file while no keyring ran; the next write moves it to the keyring.
            token = appSettings().value(settingsKey()).toString();
        }
        emit loaded(token);
    });
    startJob(job);
}

void TokenStore::write(const QString &token)
{
    m_busy = true;
    QKeychain::Job *job = nullptr;
    if (token.isEmpty()) {
        job = new QKeychain::DeletePasswordJob(kService);
    } else {
        auto *write = new QKeychain::WritePasswordJob(kService);
        write->setTextData(token);
        job = write;
    }
    job->setKey(keyringKey());
    connect(job, &QKeychain::Job::finished, this, [this, job, token] {
        m_busy = false;
        QSettings settings = appSettings();
        const Trouble trouble = troubleOf(job);
        switch (trouble) {
        case Trouble::None:
            // In the keyring now (or gone from it): no copy may stay in the file.
            settings.remove(settingsKey());
            setWhere(Where::Keyring, QString());
            break;
        case Trouble::NoService:
            useFallback(job->errorString());
            if (token.isEmpty())
                settings.remove(settingsKey());
            else
                settings.setValue(settingsKey(), token);
            break;
        case Trouble::Refused:
        case Trouble::Failed:
            // Never the plain-text file: the user has a keyring and it said no.
            noteNotKept(trouble, job->errorString(), true);
            emit saved(false);
            return;
        }
        settings.sync();
        const bool ok = settings.status() == QSettings::NoError;
        if (!ok)
            qCWarning(lcTokenStore) << "could not write" << settings.fileName();
        emit saved(ok);
    });
    startJob(job);
}

} // namespace edgelens
