#include "widgets/tokenstore.h"

#include <qt6keychain/keychain.h>

#include <QCoreApplication>
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

// Errors that mean "there is no keyring to talk to" rather than "this entry is absent".
bool keyringMissing(QKeychain::Error error)
{
    return error != QKeychain::NoError && error != QKeychain::EntryNotFound;
}

} // namespace

TokenStore::TokenStore(QObject *parent)
    : QObject(parent)
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

void TokenStore::read()
{
    m_busy = true;
    auto *job = new QKeychain::ReadPasswordJob(kService); // deletes itself when finished
    job->setKey(keyringKey());
    connect(job, &QKeychain::Job::finished, this, [this, job] {
        m_busy = false;
        const QKeychain::Error error = job->error();
        QString token;
        if (error == QKeychain::NoError) {
            token = job->textData();
            setWhere(Where::Keyring, QString());
        } else if (keyringMissing(error)) {
            useFallback(job->errorString());
        } else {
            setWhere(Where::Keyring, QString());
        }
        if (token.isEmpty()) {
            // Kept in the file while no keyring ran; the next write moves it to the keyring.
            token = appSettings().value(settingsKey()).toString();
        }
        emit loaded(token);
    });
    job->start();
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
        const QKeychain::Error error = job->error();
        QSettings settings = appSettings();
        if (!keyringMissing(error)) {
            // In the keyring now (or gone from it): no copy may stay in the file.
            settings.remove(settingsKey());
            setWhere(Where::Keyring, QString());
        } else {
            useFallback(job->errorString());
            if (token.isEmpty())
                settings.remove(settingsKey());
            else
                settings.setValue(settingsKey(), token);
        }
        settings.sync();
        const bool ok = settings.status() == QSettings::NoError;
        if (!ok)
            qCWarning(lcTokenStore) << "could not write" << settings.fileName();
        emit saved(ok);
    });
    job->start();
}

} // namespace edgelens
