#pragma once

// Widget tests reach a dialog's fields by object name. A missing one stops the suite: it means a
// renamed field, not a failure of the behaviour under test.

#include <QLatin1String>
#include <QWidget>

namespace edgelens::test {

template<typename T>
T *child(QWidget *parent, const char *name)
{
    T *widget = parent->findChild<T *>(QLatin1String(name));
    if (!widget)
        qFatal("no child %s", name);
    return widget;
}

} // namespace edgelens::test
