#pragma once

#include <QString>

class QLabel;
class QWidget;

namespace edgelens {

// The red reason shown under a field the dialogs refuse: hidden until a reason is set,
// selectable so a user can copy it into a bug report. Not word-wrapped: QFormLayout gives
// wrapped labels in nested rows too little height, and a clipped reason is worse than a wider
// dialog. Tests find it by objectName.
QLabel *makeErrorLabel(const QString &objectName, QWidget *parent);

} // namespace edgelens
