#include "widgets/settingsdialog.h"

#include "widgets/connectiontester.h"
#include "widgets/devicetrustdialog.h"
#include "widgets/devicelisteditor.h"
#include "widgets/discovereddevicelist.h"
#include "widgets/errorlabel.h"
#include "widgets/tokenstore.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "client/knowndevices.h"
#include "discovery/deviceannouncement.h"
#include "models/modelcatalog.h"

Q_LOGGING_CATEGORY(lcSettingsDialog, "edgelens.widgets.settingsdialog")

namespace edgelens {

namespace {

// Widgets side by side; the first takes the spare width unless fixedFirst, then a stretch does.
QWidget *row(QWidget *parent, std::initializer_list<QWidget *> widgets, bool fixedFirst = false)
{
    auto *box = new QWidget(parent);
    auto *layout = new QHBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    bool first = true;
    for (QWidget *widget : widgets) {
        layout->addWidget(widget, first && !fixedFirst ? 1 : 0);
        first = false;
    }
    if (fixedFirst)
        layout->addStretch(1);
    return box;
}

// A field with its red reason right under it, so the reason never squeezes the field.
QWidget *withError(QWidget *parent, QWidget *field, QLabel *error)
{
    auto *box = new QWidget(parent);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(field);
    layout->addWidget(error);
    return box;
}

QString outputDirError(const QString &text)
{
    const QString path = text.trimmed();
    if (path.isEmpty())
        return {};
    if (QDir::isRelativePath(QDir::fromNativeSeparators(path)))
        return QStringLiteral("Use an absolute folder path (or leave empty for \"<image folder>/inferenced\").");
    const QFileInfo info(path);
    if (info.exists() && !info.isDir())
        return QStringLiteral("%1 is a file, not a folder.").arg(QDir::toNativeSeparators(path));
    if (info.exists() && !info.isWritable())
        return QStringLiteral("%1 is not writable.").arg(QDir::toNativeSeparators(path));
    return {};
}

} // namespace

SettingsDialog::SettingsDialog(const AppSettings &current, QWidget *parent)
    : QDialog(parent)
    , m_initial(current)
    , m_tester(new ConnectionTester(this))
    , m_tokenStore(new TokenStore(this))
{
    setWindowTitle(tr("EdgeLens Settings"));
    buildUi();

    {
        const ModelCatalog catalog;
        const std::optional<ModelManifest> fallback = catalog.defaultModel();
        m_defaultModelName = fallback ? fallback->name : QString();
        for (const ModelManifest &manifest : catalog.all())
            m_modelChoices.append({manifest.name, manifest.summary(), manifest.isComplete(),
                                   manifest.defaultConfidence, manifest.defaultNmsIou});
    }
    loadFrom(current);

    connect(m_tester, &ConnectionTester::finished, this, &SettingsDialog::showTestResult);
    connect(m_tester, &ConnectionTester::serverInfoReceived, this, &SettingsDialog::showMeasuredTimes);
    // Testing a new TLS device asks the same question processing would; the answer is remembered.
    connect(m_tester, &ConnectionTester::trustQuestion, this,
            [this](const QString &key, const QString &name, const QString &fingerprint) {
                auto *ask = new DeviceTrustDialog(DeviceTrustDialog::Kind::FirstUse, name, QString(), fingerprint, this);
                ask->setAnnouncedFingerprint(m_announcedFingerprints.value(key));
                ask->setAttribute(Qt::WA_DeleteOnClose);
                connect(ask, &QDialog::finished, this, [this, key, fingerprint](int result) {
                    m_tester->answerTrust(key, fingerprint, result == QDialog::Accepted);
                });
                ask->open();
            });

    // The token comes from the keyring, which answers asynchronously (and may ask the user to
    // unlock it): the field waits for it rather than the dialog.
    m_token->setEnabled(false);
    m_token->setPlaceholderText(tr("Reading the keyring\u2026"));
    connect(m_tokenStore, &TokenStore::whereChanged, this, [this](TokenStore::Where, const QString &note) {
        m_tokenNote->setText(note);
        m_tokenNote->setVisible(!note.isEmpty());
    });
    connect(m_tokenStore, &TokenStore::loaded, this, [this](const QString &token) {
        m_loadedToken = token;
        if (!m_token->isModified())
            m_token->setText(token);
        updateEnabledState();
        m_token->setPlaceholderText(tr("none (the device runs without --token)"));
        emit tokenLoaded();
    });
    connect(m_tokenStore, &TokenStore::saved, this, &SettingsDialog::tokenSaved);
    m_tokenStore->read();
}

SettingsDialog::~SettingsDialog() = default;

void SettingsDialog::buildUi()
{
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(buildServerGroup());
    layout->addWidget(buildDetectionGroup());
    layout->addWidget(buildOutputGroup());
    layout->addWidget(buildPhotosGroup());
    layout->addWidget(m_buttons);
    connectFields();
}

QGroupBox *SettingsDialog::buildServerGroup()
{
    auto *connection = new QGroupBox(tr("Server"), this);
    auto *connectionForm = new QFormLayout(connection);

    m_target = new QComboBox(connection);
    m_target->setObjectName(QStringLiteral("target"));
    m_target->addItem(tr("Embedded server (runs in this app)"), int(AppSettings::Target::Embedded));
    m_target->addItem(tr("Remote device"), int(AppSettings::Target::Remote));
    connectionForm->addRow(tr("&Target:"), m_target);

    m_discovered = new DiscoveredDeviceList(connection);
    m_discovered->setObjectName(QStringLiteral("discoveredDeviceList"));
    connectionForm->addRow(tr("On the network:"), m_discovered);

    m_devices = new DeviceListEditor(connection);
    m_devices->setObjectName(QStringLiteral("deviceList"));
    connectionForm->addRow(tr("&Devices:"), m_devices);

    m_token = new QLineEdit(connection);
    m_token->setObjectName(QStringLiteral("token"));
    m_token->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    m_token->setToolTip(tr("The token the devices were started with (edgelens-server --token). Kept in the desktop keyring."));
    m_tokenNote = new QLabel(connection);
    m_tokenNote->setObjectName(QStringLiteral("tokenNote"));
    m_tokenNote->setWordWrap(true);
    m_tokenNote->setStyleSheet(QStringLiteral("color: #9a6700;"));
    m_tokenNote->hide();
    connectionForm->addRow(tr("Access to&ken:"), withError(connection, m_token, m_tokenNote));

    m_timeout = new QSpinBox(connection);
    m_timeout->setObjectName(QStringLiteral("timeout"));
    m_timeout->setRange(AppSettings::kMinTimeoutMs, AppSettings::kMaxTimeoutMs);
    m_timeout->setSingleStep(1000);
    m_timeout->setSuffix(tr(" ms"));
    connectionForm->addRow(tr("T&imeout:"), m_timeout);

    m_inFlight = new QSpinBox(connection);
    m_inFlight->setObjectName(QStringLiteral("inFlight"));
    m_inFlight->setRange(1, AppSettings::kMaxInFlightLimit);
    m_timeout->setMaximumWidth(140);
    m_inFlight->setMaximumWidth(140);
    m_inFlight->setToolTip(tr("How many images may be on their way to the server at once."));
    connectionForm->addRow(tr("Requests in &flight:"), m_inFlight);

    m_testButton = new QPushButton(tr("Test &connection"), connection);
    m_testButton->setObjectName(QStringLiteral("testConnectionButton"));
    m_testResult = new QLabel(connection);
    m_testResult->setObjectName(QStringLiteral("connectionResult"));
    m_testResult->setWordWrap(true);
    // Room for three lines up front: a top-level dialog does not grow for a wrapped label.
    m_testResult->setMinimumSize(380, 3 * m_testResult->fontMetrics().lineSpacing());
    m_testResult->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_testResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connectionForm->addRow(m_testButton, m_testResult);
    return connection;
}

QGroupBox *SettingsDialog::buildDetectionGroup()
{
    auto *detection = new QGroupBox(tr("Detection"), this);
    auto *detectionForm = new QFormLayout(detection);
    m_model = new QComboBox(detection);
    m_model->setObjectName(QStringLiteral("model"));
    m_modelError = makeErrorLabel(QStringLiteral("modelError"), detection);
    detectionForm->addRow(tr("&Model:"), withError(detection, m_model, m_modelError));

    m_confidence = new QDoubleSpinBox(detection);
    m_confidence->setObjectName(QStringLiteral("confidence"));
    m_confidence->setRange(0.0, 1.0);
    m_confidence->setDecimals(2);
    m_confidence->setSingleStep(0.05);
    m_confidenceDefault = new QCheckBox(tr("Model default"), detection);
    m_confidenceDefault->setObjectName(QStringLiteral("confidenceDefault"));
    detectionForm->addRow(tr("Confidence &threshold:"), row(detection, {m_confidence, m_confidenceDefault}, true));

    m_nmsDefault = new QCheckBox(tr("Model default"), detection);
    m_nmsDefault->setObjectName(QStringLiteral("nmsDefault"));
    m_nms = new QDoubleSpinBox(detection);
    m_nms->setObjectName(QStringLiteral("nms"));
    m_nms->setRange(0.05, 1.0);
    m_nms->setDecimals(2);
    m_nms->setSingleStep(0.05);
    detectionForm->addRow(tr("&NMS IoU:"), row(detection, {m_nms, m_nmsDefault}, true));
    return detection;
}

QGroupBox *SettingsDialog::buildOutputGroup()
{
    auto *output = new QGroupBox(tr("Output"), this);
    auto *outputForm = new QFormLayout(output);
    m_outputDir = new QLineEdit(output);
    m_outputDir->setObjectName(QStringLiteral("outputDir"));
    m_outputDir->setPlaceholderText(tr("<first image folder>/inferenced"));
    m_browse = new QPushButton(tr("&Browse\u2026"), output);
    m_outputDirError = makeErrorLabel(QStringLiteral("outputDirError"), output);
    outputForm->addRow(tr("Output &folder:"), withError(output, row(output, {m_outputDir, m_browse}), m_outputDirError));

    m_jpegQuality = new QSpinBox(output);
    m_jpegQuality->setObjectName(QStringLiteral("jpegQuality"));
    m_jpegQuality->setRange(1, 100);
    outputForm->addRow(tr("&JPEG quality:"), m_jpegQuality);

    m_jsonSidecars = new QCheckBox(tr("Write a JSON file with the detections next to each result"), output);
    m_jsonSidecars->setObjectName(QStringLiteral("jsonSidecars"));
    outputForm->addRow(tr("JSON &sidecars:"), m_jsonSidecars);
    return output;
}

// How photos travel (docs/TRANSFER.md): both apply to v2 servers only.
QGroupBox *SettingsDialog::buildPhotosGroup()
{
    auto *photos = new QGroupBox(tr("Large photos"), this);
    photos->setObjectName(QStringLiteral("largePhotos"));
    auto *photosForm = new QFormLayout(photos);
    m_sendOriginal = new QCheckBox(tr("Send original files (no reduced copy sized for the model)"), photos);
    m_sendOriginal->setObjectName(QStringLiteral("sendOriginalFiles"));
    photosForm->addRow(tr("&Sending:"), m_sendOriginal);
    m_resultSize = new QComboBox(photos);
    m_resultSize->setObjectName(QStringLiteral("resultMaxSide"));
    m_resultSize->addItem(tr("Fit within 2048 px"), 2048);
    m_resultSize->addItem(tr("Original size"), 0);
    photosForm->addRow(tr("&Result image size:"), m_resultSize);
    return photos;
}

void SettingsDialog::connectFields()
{
    connect(m_buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);
    connect(m_testButton, &QPushButton::clicked, this, &SettingsDialog::testConnection);
    connect(m_browse, &QPushButton::clicked, this, &SettingsDialog::browseOutputDir);
    connect(m_target, &QComboBox::currentIndexChanged, this, &SettingsDialog::validate);
    connect(m_model, &QComboBox::currentIndexChanged, this, &SettingsDialog::validate);
    connect(m_devices, &DeviceListEditor::changed, this, &SettingsDialog::validate);
    connect(m_discovered, &DiscoveredDeviceList::addRequested, this, &SettingsDialog::addDiscovered);
    connect(m_devices, &DeviceListEditor::currentChanged, this, [this] {
        m_testResult->clear();
        updateEnabledState();
    });
    connect(m_outputDir, &QLineEdit::textChanged, this, &SettingsDialog::validate);
    connect(m_model, &QComboBox::currentIndexChanged, this, &SettingsDialog::showThresholds);
    for (QCheckBox *useDefault : {m_nmsDefault, m_confidenceDefault}) {
        connect(useDefault, &QCheckBox::toggled, this, &SettingsDialog::showThresholds);
        connect(useDefault, &QCheckBox::toggled, this, &SettingsDialog::updateEnabledState);
    }
    // Only what the user sets is theirs; the defaults shown while ticked are not.
    connect(m_confidence, &QDoubleSpinBox::valueChanged, this, [this](double value) {
        if (!m_confidenceDefault->isChecked())
            m_ownConfidence = value;
    });
    connect(m_nms, &QDoubleSpinBox::valueChanged, this, [this](double value) {
        if (!m_nmsDefault->isChecked())
            m_ownNmsIou = value;
    });
}

const SettingsDialog::ModelChoice *SettingsDialog::chosenModel() const
{
    QString name = m_model->currentData().toString();
    if (name.isEmpty())
        name = m_defaultModelName;
    auto it = std::find_if(m_modelChoices.cbegin(), m_modelChoices.cend(),
                           [&name](const ModelChoice &c) { return c.name == name; });
    return it == m_modelChoices.cend() ? nullptr : &*it;
}

void SettingsDialog::showThresholds()
{
    const ModelChoice *model = chosenModel();
    // Without a known model the fields fall back to what the server applies then (0.5).
    const double modelConfidence = model && model->defaultConfidence >= 0 ? model->defaultConfidence : 0.5;
    const double modelNms = model && model->defaultNmsIou >= 0 ? model->defaultNmsIou : 0.5;
    // Unticking starts from the user's own value, or without one from the value in force.
    const double ownConfidence = m_ownConfidence >= 0 ? m_ownConfidence : modelConfidence;
    const double ownNms = m_ownNmsIou >= 0 ? m_ownNmsIou : modelNms;
    {
        const QSignalBlocker confidenceBlocker(m_confidence);
        const QSignalBlocker nmsBlocker(m_nms);
        m_confidence->setValue(m_confidenceDefault->isChecked() ? modelConfidence : ownConfidence);
        m_nms->setValue(m_nmsDefault->isChecked() ? modelNms : ownNms);
    }
    const QString whose = model ? tr("%1's default").arg(model->name) : tr("The default");
    const QString remoteNote = tr("A remote device applies its own model's default.");
    m_confidenceDefault->setToolTip(tr("%1: %2. %3").arg(whose).arg(modelConfidence, 0, 'f', 2).arg(remoteNote));
    m_nmsDefault->setToolTip(tr("%1: %2. %3").arg(whose).arg(modelNms, 0, 'f', 2).arg(remoteNote));
}

void SettingsDialog::addDiscovered(const DiscoveredDevice &found)
{
    AppSettings::Device device;
    device.host = found.host;
    device.port = found.port;
    device.tls = found.announcement.tls;
    device.protocol = AppSettings::Protocol::Auto;
    const QString key = device.toSpec().key();
    if (!found.announcement.fingerprint.isEmpty())
        m_announcedFingerprints.insert(key, found.announcement.fingerprint);
    else
        m_announcedFingerprints.remove(key);
    m_target->setCurrentIndex(m_target->findData(int(AppSettings::Target::Remote)));
    m_devices->appendDevice(device);
    qCInfo(lcSettingsDialog).noquote() << "added" << found.name << "found on the network as" << key;
}

void SettingsDialog::loadFrom(const AppSettings &s)
{
    m_target->setCurrentIndex(m_target->findData(int(s.target)));
    m_devices->setDevices(s.remoteDevices(), s.embeddedJoins);
    m_timeout->setValue(s.timeoutMs);
    m_inFlight->setValue(s.maxInFlight);
    populateModels(s.model);
    m_ownConfidence = s.confidence;
    m_ownNmsIou = s.nmsIou;
    {
        const QSignalBlocker confidenceBlocker(m_confidenceDefault);
        const QSignalBlocker nmsBlocker(m_nmsDefault);
        m_confidenceDefault->setChecked(s.confidence < 0);
        m_nmsDefault->setChecked(s.nmsIou < 0);
    }
    showThresholds();
    m_outputDir->setText(QDir::toNativeSeparators(s.outputDir));
    m_jpegQuality->setValue(s.jpegQuality);
    m_jsonSidecars->setChecked(s.jsonSidecars);
    m_sendOriginal->setChecked(s.sendOriginalFiles);
    // A size set in the settings file by hand stays what it was.
    if (m_resultSize->findData(s.resultMaxSide) < 0)
        m_resultSize->addItem(tr("Fit within %1 px").arg(s.resultMaxSide), s.resultMaxSide);
    m_resultSize->setCurrentIndex(m_resultSize->findData(s.resultMaxSide));
    validate();
}

void SettingsDialog::setModelChoices(const QList<ModelChoice> &choices)
{
    const QString selected = m_model->currentData().toString();
    m_modelChoices = choices;
    populateModels(selected);
    showThresholds();
    validate();
}

void SettingsDialog::showMeasuredTimes(const QJsonObject &serverInfo, const QString &device)
{
    bool changed = false;
    const QJsonArray models = serverInfo.value(QStringLiteral("models")).toArray();
    for (const QJsonValue &value : models) {
        const QJsonObject model = value.toObject();
        const QJsonValue ms = model.value(QStringLiteral("measured_ms")); // absent for cascades and older servers
        if (!ms.isDouble() || ms.toDouble() < 0)
            continue;
        const QString name = model.value(QStringLiteral("name")).toString();
        for (ModelChoice &choice : m_modelChoices) {
            if (choice.name != name)
                continue;
            choice.measuredMs = ms.toDouble();
            choice.measuredOn = device;
            changed = true;
        }
    }
    if (changed)
        populateModels(m_model->currentData().toString());
}

QString SettingsDialog::choiceText(const ModelChoice &choice)
{
    QString text = choice.summary.isEmpty() ? choice.name : choice.summary;
    if (choice.measuredMs >= 0) {
        // Beside input size and accuracy: the evidence to choose a model by, from the device itself.
        text += choice.measuredOn.isEmpty() ? tr(" \u00b7 %1 ms per image").arg(choice.measuredMs, 0, 'f', 1)
                                            : tr(" \u00b7 %1 ms per image on %2").arg(choice.measuredMs, 0, 'f', 1).arg(choice.measuredOn);
    }
    return text;
}

void SettingsDialog::populateModels(const QString &selected)
{
    const QSignalBlocker blocker(m_model);
    m_model->clear();
    m_model->addItem(m_defaultModelName.isEmpty() ? tr("Default model (none found)")
                                                  : tr("Default model (%1)").arg(m_defaultModelName),
                     QString());
    for (const ModelChoice &choice : std::as_const(m_modelChoices)) {
        m_model->addItem(choiceText(choice), choice.name);
        if (!choice.usable)
            m_model->setItemData(m_model->count() - 1, tr("Some files of this model are missing."), Qt::ToolTipRole);
    }
    int index = m_model->findData(selected);
    if (index < 0) {
        // Keep a stored name the catalog does not know so the user sees what was chosen.
        m_model->addItem(tr("%1 (not found)").arg(selected), selected);
        index = m_model->count() - 1;
    }
    m_model->setCurrentIndex(index);
}

void SettingsDialog::setFieldError(QLabel *label, const QString &error)
{
    label->setText(error);
    label->setVisible(!error.isEmpty());
}

void SettingsDialog::validate()
{
    const bool remote = m_target->currentData().toInt() == int(AppSettings::Target::Remote);
    setFieldError(m_outputDirError, outputDirError(m_outputDir->text()));

    QString modelError;
    // The embedded server runs the model for the embedded target, and when it joins the devices.
    if (!remote || m_devices->embeddedJoins()) {
        const QString name = m_model->currentData().toString();
        if (!name.isEmpty()) {
            auto it = std::find_if(m_modelChoices.cbegin(), m_modelChoices.cend(),
                                   [&name](const ModelChoice &c) { return c.name == name; });
            if (it == m_modelChoices.cend())
                modelError = tr("No model named \"%1\" was found.").arg(name);
            else if (!it->usable)
                modelError = tr("\"%1\" is missing files.").arg(name);
        }
    }
    setFieldError(m_modelError, modelError);
    updateEnabledState();
}

void SettingsDialog::updateEnabledState()
{
    const bool remote = m_target->currentData().toInt() == int(AppSettings::Target::Remote);
    // Devices only matter for a remote target; an embedded one must not be blocked by a
    // half-typed address the user cannot even edit.
    m_devices->setEnabled(remote);
    m_token->setEnabled(remote && m_loadedToken.has_value());
    const bool embeddedRuns = !remote || m_devices->embeddedJoins();
    m_model->setEnabled(embeddedRuns);
    m_model->setToolTip(embeddedRuns ? QString() : tr("A remote device runs its own model."));
    m_nms->setEnabled(!m_nmsDefault->isChecked());
    m_confidence->setEnabled(!m_confidenceDefault->isChecked());
    m_testButton->setEnabled(remote && m_devices->currentDevice().has_value() && !(m_tester && m_tester->isRunning()));
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(isValid());
}

bool SettingsDialog::isValid() const
{
    return validationErrors().isEmpty();
}

QStringList SettingsDialog::validationErrors() const
{
    QStringList errors;
    if (m_target->currentData().toInt() == int(AppSettings::Target::Remote))
        errors << m_devices->errors();
    for (const QLabel *label : {m_modelError, m_outputDirError}) {
        if (!label->text().isEmpty())
            errors << label->text();
    }
    return errors;
}

AppSettings SettingsDialog::settings() const
{
    AppSettings s = m_initial;
    s.target = AppSettings::Target(m_target->currentData().toInt());
    // The device list as shown when every entry is usable; otherwise the one it was opened with.
    if (const std::optional<QList<AppSettings::Device>> devices = m_devices->devices()) {
        if (AppSettings::validateDevices(*devices, m_devices->embeddedJoins()).isEmpty()) {
            s.setDevices(*devices);
            s.embeddedJoins = m_devices->embeddedJoins();
        }
    }
    if (m_loadedToken)
        s.token = m_token->text().trimmed();
    s.timeoutMs = m_timeout->value();
    s.maxInFlight = m_inFlight->value();
    s.model = m_model->currentData().toString();
    s.confidence = m_confidenceDefault->isChecked() ? -1.0 : m_confidence->value();
    s.nmsIou = m_nmsDefault->isChecked() ? -1.0 : m_nms->value();
    if (outputDirError(m_outputDir->text()).isEmpty())
        s.outputDir = QDir::fromNativeSeparators(m_outputDir->text().trimmed());
    s.jpegQuality = m_jpegQuality->value();
    s.jsonSidecars = m_jsonSidecars->isChecked();
    s.sendOriginalFiles = m_sendOriginal->isChecked();
    s.resultMaxSide = m_resultSize->currentData().toInt();
    return s;
}

void SettingsDialog::accept()
{
    if (!isValid()) {
        // The OK button is disabled then; this guards Enter and programmatic calls.
        qCWarning(lcSettingsDialog) << "accept() with invalid fields ignored:" << validationErrors();
        return;
    }
    const AppSettings chosen = settings();
    chosen.save();
    // Only a token read from the store (and maybe edited) is written back: one still being read
    // must not be overwritten with an empty field. The store outlives the dialog for the write.
    if (m_loadedToken && chosen.token && *chosen.token != *m_loadedToken) {
        m_tokenStore->setParent(nullptr);
        connect(m_tokenStore, &TokenStore::saved, m_tokenStore, &QObject::deleteLater);
        m_tokenStore->write(*chosen.token);
    }
    QDialog::accept();
}

void SettingsDialog::testConnection()
{
    const std::optional<AppSettings::Device> device = m_devices->currentDevice();
    if (!device)
        return;
    AppSettings s = settings();
    s.setDevices({*device});
    if (m_loadedToken)
        s.token = m_token->text().trimmed();
    m_testedIndex = m_devices->currentIndex();
    m_testedKey = device->toSpec().key();
    m_testResult->setStyleSheet(QString());
    m_testResult->setText(tr("Testing %1\u2026").arg(device->name()));
    m_tester->start(s);
    updateEnabledState();
}

void SettingsDialog::showTestResult(bool ok, const QString &message)
{
    m_testResult->setStyleSheet(ok ? QStringLiteral("color: #1e8449;") : QStringLiteral("color: #c0392b;"));
    // What the certificate said against the announcement, also once trusted (the question is
    // only asked the first time).
    QString shown = message;
    if (const std::optional<QString> known = KnownDevices().fingerprint(m_testedKey)) {
        const QString note = DeviceTrustDialog::announcementNote(m_announcedFingerprints.value(m_testedKey), *known);
        if (!note.isEmpty())
            shown += QLatin1Char('\n') + note;
    }
    m_testResult->setText(shown);
    m_devices->setTestResult(m_testedIndex, ok, message);
    updateEnabledState();
    Q_EMIT connectionTestFinished(ok, message);
}

void SettingsDialog::browseOutputDir()
{
    const QString start = m_outputDir->text().isEmpty() ? m_initial.lastFolder : m_outputDir->text();
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Output folder"), start);
    if (!dir.isEmpty())
        m_outputDir->setText(QDir::toNativeSeparators(dir));
}

} // namespace edgelens
