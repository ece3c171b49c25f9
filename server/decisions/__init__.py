"""The commune chair's decision recognising the lists (Mẫu số 02), household certificates
(Mẫu số 03), and — in the monthly review — refusals answered in writing with the reason
(QĐ 24/2021/QĐ-TTg Điều 4 step 5, Điều 5).  The layouts of the official forms are not public in
full: the documents follow their known content and say they are provisional."""
