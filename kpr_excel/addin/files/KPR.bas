Attribute VB_Name = "KPR_Ribbon"
' Ribbon callbacks of the KPR add-in (kpr-excel).
'
' Every button of the "KPR" tab (customUI.xml) calls one Sub here, and every Sub hands
' the click to Python through xlwings' RunPython. The Python side (kpr_excel.excel.buttons)
' works on the workbook the user has open and answers in German itself, so nothing
' else belongs in this module but the check that a workbook is open at all.
'
' This file is the source: "kpr addin bauen" writes it into KPR.xlam beside it as the
' module KPR_Ribbon. Edit it here and rebuild; an edit made in the VBA editor is lost
' with the next build. The names carry the prefix KPR_ so that they cannot clash with
' the callbacks of another add-in.
Option Explicit

Public Sub KPR_RegelnPruefen(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.regeln_pruefen()"
End Sub

Public Sub KPR_Fristen(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.fristen_anzeigen()"
End Sub

Public Sub KPR_EinladungErstellen(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.einladung_erstellen()"
End Sub

Public Sub KPR_EinladungSenden(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.einladung_senden()"
End Sub

Public Sub KPR_NiederschriftErstellen(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.niederschrift_erstellen()"
End Sub

Public Sub KPR_NiederschriftSenden(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.niederschrift_senden()"
End Sub

Public Sub KPR_VersandBestaetigen(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.versand_bestaetigen()"
End Sub

Public Sub KPR_Jahresbericht(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.jahresbericht_erstellen()"
End Sub

Public Sub KPR_Anmelden(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.anmelden()"
End Sub

Public Sub KPR_Hilfe(control As IRibbonControl)
    If NoWorkbookOpen() Then Exit Sub
    RunPython "import kpr_excel.excel.buttons as b; b.hilfe()"
End Sub

' RunPython hands Python the name of the active workbook; without one (nothing open, or a
' file still in Protected View) it would stop with a VBA runtime error instead of a message.
Private Function NoWorkbookOpen() As Boolean
    If ActiveWorkbook Is Nothing Then
        MsgBox "Bitte zuerst die Arbeitsmappe öffnen, mit der das Menüband KPR arbeiten soll. " & _
               "Steht sie in der geschützten Ansicht, oben auf „Bearbeitung aktivieren“ klicken.", _
               vbExclamation, "KPR"
        NoWorkbookOpen = True
    End If
End Function
